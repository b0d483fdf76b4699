"""`audit` on the in-memory fakes: the grammar, the handler's rules, the export service (its
progress, its file, its link, its upload limit, its failure) and the export store."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.commands import model as c
from core.commands.grammar import parse
from core.domain.model import AuditEntry, Job, JobState, Origin, OriginKind, Outcome, Principal
from core.errors import InvalidCommand
from core.exports.actions import ACTION_COLUMNS
from core.exports.service import ExportService
from core.exports.spec import ExportSpec, ExportWhat, StoredExport
from core.exports.store import ExportStore
from core.jobs.export import COLUMNS, ExportFormat
from core.safety.links import export_path, verify
from core.views.message import Message
from tests.fakes import FakeJobArchive, FakeStore
from tests.unit.conftest import TARGETS, RecordingJobControl, console

SECRET = b"k" * 32
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class RecordingChannel:
    """An export channel that keeps what it was shown and what it was given to attach."""

    def __init__(self, upload_limit: int = 10**9) -> None:
        self.upload_limit = upload_limit
        self.shown: list[Message] = []
        self.attached: list[StoredExport] = []

    async def show(self, message: Message) -> None:
        self.shown.append(message)

    async def attach(self, export: StoredExport, message: Message) -> None:
        self.attached.append(export)


class ListSink:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def seed_jobs(store: FakeStore, count: int, *, target: str = "demo") -> None:
    origin = Origin(OriginKind.USER, "slack", "T1", "C1")
    start = max(store.state.jobs, default=0)
    for n in range(start + 1, start + count + 1):
        store.state.jobs[n] = Job(
            n,
            target,
            JobState.SUCCEEDED,
            origin,
            Principal("slack", "T1", "U1"),
            f"person {n}",
            NOW - timedelta(days=1, seconds=-n),
            size_bytes=n,
        )


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def exports(
    store: FakeStore, clock: FrozenClock, tmp_path: Path, channel: RecordingChannel, sink: ListSink
) -> ExportService:
    return ExportService(
        store.uow,
        FakeJobArchive(store, batch=100),
        ExportStore(tmp_path / "exports", timedelta(hours=24)),
        clock,
        lambda actor: channel,
        base_url="https://bot.example.org",
        secret=SECRET,
        audit_sink=sink,
        every=0,
    )


@pytest.fixture
def service(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl, exports: ExportService
) -> CommandService:
    return CommandService(store.uow, TARGETS, clock, jobs, platforms=PLATFORMS, exports=exports)


# --- the grammar ---


def test_audit_alone_means_the_default_window_as_csv_of_jobs() -> None:
    assert parse("audit") == c.ExportAudit(None, None, None, "csv", "jobs")


def test_a_bare_until_date_includes_its_whole_day_and_since_starts_at_midnight() -> None:
    command = parse("audit --since 2026-11-01 --until 2026-11-30 --format ndjson --what actions")
    assert command == c.ExportAudit(
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 12, 1, tzinfo=UTC),
        None,
        "ndjson",
        "actions",
    )


def test_an_iso_date_time_is_taken_as_it_is_and_a_naive_one_as_utc() -> None:
    command = parse("audit --since 2026-11-01T08:30+02:00 --until 2026-11-02T10:00")
    assert isinstance(command, c.ExportAudit)
    assert command.since == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert command.until == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-02-30", "٢٠٢٦-١١-٠١", "1"])
def test_a_bad_date_is_refused_naming_the_option_and_the_value(bad: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        parse(f"audit --since {bad}")
    assert refused.value.key == "error.bad_date"
    assert refused.value.params["option"] == "--since"
    assert refused.value.params["value"] == bad


def test_the_last_day_of_the_calendar_does_not_overflow() -> None:
    command = parse("audit --since 9999-12-30 --until 9999-12-31")
    assert isinstance(command, c.ExportAudit) and command.until is not None
    assert command.until.year == 9999


# --- the handler ---


async def test_audit_is_answered_at_once_and_the_export_follows_in_the_channel(
    service: CommandService,
    exports: ExportService,
    store: FakeStore,
    channel: RecordingChannel,
    sink: ListSink,
) -> None:
    seed_jobs(store, 250)

    reply = await service.execute_text("audit", console("alice"))
    await exports.idle()

    assert reply.status == "Started" and "jobs" in reply.text and "CSV" in reply.text
    assert channel.shown[0].status == "Building the export… 0 of 250 jobs"
    assert "Building the export… 100 of 250 jobs" in [m.status for m in channel.shown]
    ready = channel.shown[-1]
    assert ready.status == "Ready" and "250 jobs" in ready.summary
    [stored] = channel.attached
    rows = list(csv.reader(io.StringIO(stored.path.read_text(), newline="")))
    assert rows[0] == list(COLUMNS) and len(rows) == 251
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, 251)]
    [export_line] = [e for e in sink.entries if e.action == "audit.export"]
    assert export_line.outcome is Outcome.OK and "250 rows" in export_line.detail


async def test_the_ready_message_carries_a_signed_link_to_exactly_that_file(
    service: CommandService, exports: ExportService, store: FakeStore, channel: RecordingChannel
) -> None:
    seed_jobs(store, 3)
    await service.execute_text("audit --format json", console("alice"))
    await exports.idle()

    [stored] = channel.attached
    [link] = [f.value for f in channel.shown[-1].links]
    parts = urlsplit(link)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == export_path(stored.export_id)
    assert verify(SECRET, parts.path, query["expires"], query["sig"], NOW)
    assert int(query["expires"]) == int((NOW + timedelta(hours=24)).timestamp())
    assert [j["id"] for j in json.loads(stored.path.read_text())] == [1, 2, 3]
    assert stored.filename == "exportbot-jobs-2026-01-31-2026-03-02.json"


async def test_a_target_keeps_only_its_jobs(
    service: CommandService, exports: ExportService, store: FakeStore, channel: RecordingChannel
) -> None:
    seed_jobs(store, 3, target="demo")
    seed_jobs(store, 2, target="site-a")
    await service.execute_text("audit --target site-a --format ndjson", console("alice"))
    await exports.idle()

    [stored] = channel.attached
    lines = [json.loads(line) for line in stored.path.read_text().splitlines()]
    assert [(j["id"], j["target"]) for j in lines] == [(4, "site-a"), (5, "site-a")]


async def test_the_action_log_is_exported_with_its_columns_past_one_page(
    service: CommandService,
    exports: ExportService,
    store: FakeStore,
    channel: RecordingChannel,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("core.exports.service.ACTION_PAGE", 7)
    for n in range(20):
        store.state.audit.append(
            AuditEntry(
                NOW - timedelta(hours=n + 1),
                "slack:T1:U1",
                "=cmd|bob",
                "slack",
                "T1",
                "C1",
                "run",
                Outcome.OK if n % 2 else Outcome.REFUSED,
                "demo",
                n,
                "run demo",
                id=n + 1,
            )
        )
    await service.execute_text("audit --what actions", console("alice"))
    await exports.idle()

    [stored] = channel.attached
    rows = list(csv.DictReader(io.StringIO(stored.path.read_text(), newline="")))
    assert list(rows[0]) == list(ACTION_COLUMNS)
    assert [r["id"] for r in rows] == [str(n) for n in range(20, 0, -1)]  # oldest first
    assert rows[0]["actor_name"] == "'=cmd|bob"  # a formula is made text
    assert {r["outcome"] for r in rows} == {"ok", "refused"}
    assert rows[0]["command"] == "run" and rows[0]["channel"] == "C1"


async def test_someone_without_manage_exports_is_refused_audited_and_nothing_is_built(
    service: CommandService, exports: ExportService, store: FakeStore, channel: RecordingChannel
) -> None:
    reply = await service.execute_text("audit", console("bob"))
    await exports.idle()

    assert reply.error_key == "error.permission"
    assert channel.shown == [] and not list(exports.store.folder.glob("*"))
    [line] = [e for e in store.state.audit if e.action == "audit"]
    assert line.outcome is Outcome.REFUSED and line.actor == "console:bob"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("audit --target nowhere", "error.target_not_found"),
        ("audit --since 2026-11-30 --until 2026-11-01", "error.since_after_until"),
        ("audit --since 2999-01-01", "error.since_after_until"),
        ("audit --what everything", "error.bad_choice"),
        ("audit --since", "error.option_needs_value"),
    ],
)
async def test_bad_arguments_get_a_clear_reply_and_start_nothing(
    service: CommandService,
    exports: ExportService,
    channel: RecordingChannel,
    text: str,
    key: str,
) -> None:
    reply = await service.execute_text(text, console("alice"))
    await exports.idle()

    assert reply.error_key == key
    assert "help" in reply.footer  # the help line
    assert channel.shown == []


async def test_a_backwards_period_is_named_with_the_days_as_typed(
    service: CommandService, exports: ExportService
) -> None:
    """`--until 2026-11-01` includes that day (it is kept as the next midnight): the reply
    names the day typed, not 2026-11-02."""
    reply = await service.execute_text(
        "audit --since 2026-11-30 --until 2026-11-01", console("alice")
    )
    await exports.idle()

    assert "--since (2026-11-30)" in reply.text and "--until (2026-11-01)" in reply.text
    assert "2026-11-02" not in reply.text


async def test_replies_are_in_french_for_a_french_speaker(
    service: CommandService, exports: ExportService, store: FakeStore, channel: RecordingChannel
) -> None:
    seed_jobs(store, 1200)
    reply = await service.execute_text("audit", console("alice", "fr"))
    await exports.idle()

    assert reply.status == "Lancé" and "Préparation de l'export des jobs" in reply.text
    assert channel.shown[0].status == "Préparation de l'export… 0 jobs sur 1\u202f200"
    assert channel.shown[-1].status == "Prêt"
    assert "Le fichier est joint" in channel.shown[-1].text
    refused = await service.execute_text("audit --since hier", console("alice", "fr"))
    assert "attend une date" in refused.text


async def test_a_file_above_the_upload_limit_goes_as_its_link_only(
    service: CommandService, exports: ExportService, store: FakeStore, channel: RecordingChannel
) -> None:
    channel.upload_limit = 100
    seed_jobs(store, 5)
    await service.execute_text("audit", console("alice"))
    await exports.idle()

    assert channel.attached == []
    assert channel.shown[-1].status == "Ready" and channel.shown[-1].links
    assert "too large to attach" in channel.shown[-1].text


class BrokenArchive(FakeJobArchive):
    async def count(self, since: datetime, until: datetime, target: str | None = None) -> int:
        raise OSError("disk gone")


async def test_a_failed_export_ends_with_a_message_saying_so_and_keeps_nothing(
    store: FakeStore, clock: FrozenClock, tmp_path: Path, sink: ListSink
) -> None:
    channel = RecordingChannel()
    exports = ExportService(
        store.uow,
        BrokenArchive(store),
        ExportStore(tmp_path / "exports", timedelta(hours=1)),
        clock,
        lambda actor: channel,
        base_url="https://bot.example.org",
        secret=SECRET,
        audit_sink=sink,
    )
    spec = ExportSpec(ExportWhat.JOBS, ExportFormat.CSV, NOW - timedelta(days=1), NOW)

    assert await exports.build(spec, console("alice")) is None
    assert channel.shown[-1].status == "Failed" and channel.shown[-1].error_key
    assert not list((tmp_path / "exports").glob("*.data"))
    assert [e.outcome for e in sink.entries] == [Outcome.ERROR]


# --- the store ---


async def _chunks(*texts: str) -> AsyncIterator[str]:
    for text in texts:
        yield text


async def test_the_store_finds_a_file_until_it_expires_and_the_sweep_removes_it(
    tmp_path: Path,
) -> None:
    store = ExportStore(tmp_path, timedelta(hours=1))
    spec = ExportSpec(ExportWhat.ACTIONS, ExportFormat.NDJSON, NOW - timedelta(days=1), NOW)
    stored = await store.write(spec, _chunks("a\n", "b\n"), NOW)

    assert stored.path.read_text() == "a\nb\n" and stored.size == 4
    assert store.find(stored.export_id, NOW + timedelta(minutes=59)) == stored
    assert store.find(stored.export_id, NOW + timedelta(hours=1)) is None
    assert store.sweep(NOW + timedelta(minutes=59)) == 0
    assert store.sweep(NOW + timedelta(hours=2)) == 2
    assert list(tmp_path.iterdir()) == []  # noqa: ASYNC240


@pytest.mark.parametrize(
    "garbage", ["", "..", "../../etc/passwd", "a" * 31, "a" * 33, "a/" * 16, "\x00" * 32]
)
def test_the_store_never_looks_outside_its_folder(tmp_path: Path, garbage: str) -> None:
    assert ExportStore(tmp_path / "x", timedelta(hours=1)).find(garbage, NOW) is None


async def test_where_the_bot_cannot_post_audit_is_refused_rather_than_built_for_nobody(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl, tmp_path: Path
) -> None:
    nowhere = ExportService(
        store.uow,
        FakeJobArchive(store),
        ExportStore(tmp_path / "exports", timedelta(hours=1)),
        clock,
        lambda actor: None,
        base_url="https://bot.example.org",
        secret=SECRET,
    )
    service = CommandService(store.uow, TARGETS, clock, jobs, platforms=PLATFORMS, exports=nowhere)

    reply = await service.execute_text("audit", console("alice"))
    await nowhere.idle()

    assert reply.error_key == "error.exports_unreachable"
    assert not (tmp_path / "exports").exists()


async def test_without_an_export_service_audit_gets_a_clear_reply(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl
) -> None:
    bare = CommandService(store.uow, TARGETS, clock, jobs, platforms=PLATFORMS)

    reply = await bare.execute_text("audit", console("alice"))

    assert reply.error_key == "error.exports_unavailable"


async def test_one_row_is_counted_in_the_singular(
    service: CommandService, exports: ExportService, store: FakeStore, channel: RecordingChannel
) -> None:
    seed_jobs(store, 1)
    await service.execute_text("audit", console("alice"))
    await exports.idle()

    assert channel.shown[0].status == "Building the export… 0 of 1 job"
    assert "1 job," in channel.shown[-1].summary


async def test_a_replayed_request_starts_one_export(
    service: CommandService, exports: ExportService, store: FakeStore, channel: RecordingChannel
) -> None:
    seed_jobs(store, 2)
    first = await service.execute_text("audit", console("alice"), once="trigger-1")
    again = await service.execute_text("audit", console("alice"), once="trigger-1")
    await exports.idle()

    assert first.status == "Started" and again.status != "Started"
    assert len(channel.attached) == 1


class RefusingChannel(RecordingChannel):
    async def attach(self, export: StoredExport, message: Message) -> None:
        raise OSError("the platform refused the file")


async def test_a_refused_upload_leaves_the_link_and_says_the_file_is_not_attached(
    store: FakeStore, clock: FrozenClock, tmp_path: Path
) -> None:
    channel = RefusingChannel()
    exports = ExportService(
        store.uow,
        FakeJobArchive(store),
        ExportStore(tmp_path / "exports", timedelta(hours=1)),
        clock,
        lambda actor: channel,
        base_url="https://bot.example.org",
        secret=SECRET,
    )
    seed_jobs(store, 2)
    spec = ExportSpec(ExportWhat.JOBS, ExportFormat.CSV, NOW - timedelta(days=2), NOW)

    stored = await exports.build(spec, console("alice"))

    assert stored is not None
    assert channel.shown[-1].status == "Ready" and channel.shown[-1].links
    assert (
        "too large to attach" in channel.shown[-1].text or "download it" in channel.shown[-1].text
    )
