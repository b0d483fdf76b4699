"""`exclude <target>` and adding a preset (D2), through the service, on fakes and a real tree."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.commands import model as c
from core.commands.grammar import parse
from core.domain.model import Outcome, TargetKind, TargetSpec
from core.exclusions.service import PreviewService
from core.exports.spec import StoredExport
from core.views.message import Message
from tests.fakes import FakeStore
from tests.unit.conftest import RecordingJobControl, console, press

DAILY = 'schedule draft site --cron "0 2 * * *" --tz UTC'


class RecordingChannel:
    upload_limit = 0

    def __init__(self) -> None:
        self.shown: list[Message] = []

    async def show(self, message: Message) -> None:
        self.shown.append(message)

    async def attach(self, export: StoredExport, message: Message) -> None:
        raise AssertionError("a preview uploads nothing")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    for name, size in {
        "index.html": 10,
        "node_modules/a/index.js": 100,
        "node_modules/b/index.js": 200,
        "wp-content/updraft/backup.zip": 5_000,
        "logs/today.txt": 7,
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    return root


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def previews(channel: RecordingChannel) -> PreviewService:
    return PreviewService(lambda actor: channel, every=0)


@pytest.fixture
def service(
    store: FakeStore,
    clock: FrozenClock,
    jobs: RecordingJobControl,
    site: Path,
    tmp_path: Path,
    previews: PreviewService,
) -> CommandService:
    targets = {
        "site": TargetSpec(
            "site",
            TargetKind.ARCHIVE,
            source=str(site),
            archive_dir=str(tmp_path / "out"),
            exclude=(".git/",),
        ),
        "quick": TargetSpec("quick", TargetKind.COMMAND, command=("true",)),
        "pushed": TargetSpec("pushed", TargetKind.REPORTED),
    }
    return CommandService(store.uow, targets, clock, jobs, platforms=PLATFORMS, previews=previews)


def test_the_grammar_reads_the_verb_its_preset_and_its_size() -> None:
    assert parse("exclude site") == c.ShowExclusions("site", 100)
    assert parse("exclude site --over 250") == c.ShowExclusions("site", 250)
    assert parse("exclude site add logs") == c.AddExclusion("site", "logs", 100)
    assert parse("exclude site add 6 --over 5") == c.AddExclusion("site", "6", 5)


async def test_exclude_answers_at_once_then_shows_progress_and_each_preset_previewed(
    service: CommandService, previews: PreviewService, channel: RecordingChannel
) -> None:
    reply = await service.execute_text("exclude site", console("alice"))
    assert "Scanning site's files to preview each preset" in reply.text
    await previews.idle()
    *progress, last = channel.shown
    # Every interval (0 s here) the scan is not done shows how far it got, then the result.
    assert all(re.fullmatch(r"Scanning site… \d+ files?", p.status) for p in progress)
    assert last.status == "Scanned"
    text = last.text
    assert "1. node-modules: Node.js packages" in text
    assert "would leave out 2 files, 300 B" in text
    assert "2. git: Git repositories' history `.git/` — already excluded" in text
    assert "4. backup-plugins:" in text and "would leave out 1 file, 5.0 kB" in text
    assert "already excluded: 5 (" in text
    pressable = [(a.name, a.object_id) for a in last.actions]
    assert ("exclude.add.node-modules", "site") in pressable
    assert ("exclude.add.git", "site") not in pressable  # already there: no button
    assert len(pressable) == 7


async def test_a_scan_done_within_the_first_interval_shows_its_result_alone(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl, site: Path
) -> None:
    # No "Scanning site… 0 files" line first: in the console it came before the command's own
    # answer, and in chat it was a post that said nothing yet.
    channel = RecordingChannel()
    patient = PreviewService(lambda actor: channel, every=600)
    targets = {"site": TargetSpec("site", TargetKind.ARCHIVE, source=str(site))}
    service = CommandService(store.uow, targets, clock, jobs, platforms=PLATFORMS, previews=patient)
    reply = await service.execute_text("exclude site", console("alice"))
    assert "Scanning site's files" in reply.text
    await patient.idle()
    assert [m.status for m in channel.shown] == ["Scanned"]
    async with patient:
        pass


async def test_the_size_chosen_rides_on_the_large_media_button(
    service: CommandService, previews: PreviewService, channel: RecordingChannel
) -> None:
    await service.execute_text("exclude site --over 250", console("alice"))
    await previews.idle()
    objects = {a.name: a.object_id for a in channel.shown[-1].actions}
    assert (
        objects["exclude.add.large-media"] == "site/250" and objects["exclude.add.logs"] == "site"
    )
    assert "Files over 250 MB" in channel.shown[-1].text


async def test_a_french_reader_gets_the_preview_in_french(
    service: CommandService, previews: PreviewService, channel: RecordingChannel
) -> None:
    reply = await service.execute_text("exclude site", console("alice", "fr"))
    assert "Parcours des fichiers de site" in reply.text
    await previews.idle()
    assert "laisserait de côté 2 fichiers" in channel.shown[-1].text
    assert "laisserait de côté 0 fichier, 0 o" in channel.shown[-1].text  # French: 0 is one
    assert channel.shown[-1].actions[0].label == "Ajouter node-modules"


async def test_exclude_is_refused_without_the_draft_capability_and_starts_nothing(
    service: CommandService, previews: PreviewService, channel: RecordingChannel, store: FakeStore
) -> None:
    reply = await service.execute_text("exclude site", console("carol"))
    assert "“draft” capability on site" in reply.text
    await previews.idle()
    assert channel.shown == []
    added = await service.execute_text("exclude site add logs", console("bob"))
    assert "“draft” capability on site" in added.text
    assert store.state.drafts == {}


@pytest.mark.parametrize(("target", "kind"), [("quick", "command"), ("pushed", "reported")])
async def test_a_target_without_a_local_tree_gets_a_clear_reply(
    service: CommandService, channel: RecordingChannel, target: str, kind: str
) -> None:
    for text in (f"exclude {target}", f"exclude {target} add logs"):
        reply = await service.execute_text(text, console("alice"))
        assert f"{target} is a {kind} target: it has no folder on this machine" in reply.text
    assert channel.shown == []


async def test_an_unknown_target_is_not_found_with_a_suggestion(service: CommandService) -> None:
    reply = await service.execute_text("exclude sit", console("alice"))
    assert "site" in reply.text and "sit" in reply.text


async def test_adding_to_a_target_without_a_schedule_says_how_to_create_one(
    service: CommandService, store: FakeStore
) -> None:
    reply = await service.execute_text("exclude site add logs", console("alice"))
    assert "site has no schedule yet" in reply.text
    assert 'schedule draft site --cron "0 3 * * *" --tz UTC' in reply.text
    assert store.state.drafts == {}


async def test_adding_a_preset_by_number_opens_a_draft_with_the_pattern_and_names_the_next_step(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text(DAILY, console("alice"))
    await service.execute_text("schedule submit #1", console("alice"))
    await service.execute_text("schedule review #1 approve", console("carol"))  # active now
    reply = await service.execute_text("exclude site add 5", console("alice"))
    assert "Added `*.log`, `logs/` to draft #2 of site's schedule." in reply.text
    assert "Next: schedule submit #2, then a reviewer approves it." in reply.text
    draft = store.state.drafts[2]
    assert draft.spec.exclude == ("*.log", "logs/")
    assert (draft.spec.cron, draft.spec.timezone) == ("0 2 * * *", "UTC")
    again = await service.execute_text("exclude site add logs", console("alice"))
    assert "already excluded from site (in your draft #2)" in again.text
    assert store.state.drafts[2].version == 1
    configured = await service.execute_text("exclude site add git", console("alice"))
    assert "already excluded from site (in its configuration)" in configured.text


async def test_a_preset_button_adds_to_the_authors_open_draft(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text(DAILY + " --exclude tmp/", console("alice"))
    reply = await press(service, "exclude.add.large-media", "site/250:0", console("alice"))
    assert "Added `:larger-than=250MB` to draft #1" in reply.text
    assert store.state.drafts[1].spec.exclude == ("tmp/", ":larger-than=250MB")
    assert store.state.drafts[1].version == 2
    audit = [(e.action, e.outcome) for e in store.state.audit if e.action.startswith("draft")]
    assert ("draft.edited", Outcome.OK) in audit


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("exclude.add.nothing", "site:0"),
        ("exclude.add.", "site:0"),
        ("exclude.add", "site:0"),
        ("exclude.add.logs", "site/0:0"),
        ("exclude.add.logs", "site/abc:0"),
        ("exclude.add.logs", "/5:0"),
        ("exclude.add.logs", ":0"),
        ("exclude.add.logs", "nowhere:0"),
        ("exclude.add.logs", "site/1/2:0"),
        ("exclude.add.logs", "quick:0"),
        ("exclude.add.large-media", "site/99999999:0"),
    ],
)
async def test_a_forged_preset_button_changes_nothing(
    service: CommandService, store: FakeStore, name: str, value: str
) -> None:
    await service.execute_text(DAILY, console("alice"))
    reply = await press(service, name, value, console("alice"))
    assert reply.error_key
    assert store.state.drafts[1].version == 1 and store.state.drafts[1].spec.exclude == ()


class HeldChannel(RecordingChannel):
    """Shows nothing until released: a preview stays under way meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def show(self, message: Message) -> None:
        await self.release.wait()
        await super().show(message)


async def test_a_second_preview_of_a_target_under_way_is_refused_until_the_first_ends(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl, site: Path
) -> None:
    held = HeldChannel()
    previews = PreviewService(lambda actor: held, every=0)
    targets = {"site": TargetSpec("site", TargetKind.ARCHIVE, source=str(site))}
    service = CommandService(
        store.uow, targets, clock, jobs, platforms=PLATFORMS, previews=previews
    )
    first = await service.execute_text("exclude site", console("alice"))
    assert "Scanning site's files" in first.text
    second = await service.execute_text("exclude site", console("alice"))
    assert "A scan of site is already under way" in second.text
    held.release.set()
    await previews.idle()
    assert held.shown[-1].status == "Scanned"
    third = await service.execute_text("exclude site", console("alice"))
    assert "Scanning site's files" in third.text
    await previews.idle()
    async with previews:  # its stop ends the walkers' threads
        pass


async def test_exclude_is_refused_where_the_bot_cannot_show_the_preview(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl, site: Path
) -> None:
    nowhere = PreviewService(lambda actor: None)
    targets = {"site": TargetSpec("site", TargetKind.ARCHIVE, source=str(site))}
    service = CommandService(store.uow, targets, clock, jobs, platforms=PLATFORMS, previews=nowhere)
    reply = await service.execute_text("exclude site", console("alice"))
    assert "The bot cannot post in this conversation, so the preview could not be shown" in (
        reply.text
    )
    assert not nowhere.busy("site")


async def test_a_scan_cut_short_says_its_figures_are_at_least(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl, site: Path
) -> None:
    channel = RecordingChannel()
    bounded = PreviewService(lambda actor: channel, every=0, max_files=2)
    targets = {"site": TargetSpec("site", TargetKind.ARCHIVE, source=str(site))}
    service = CommandService(store.uow, targets, clock, jobs, platforms=PLATFORMS, previews=bounded)
    await service.execute_text("exclude site", console("alice"))
    await bounded.idle()
    last = channel.shown[-1]
    assert last.status == "Scanned in part"
    assert "Files looked at, beyond what is already excluded: at least 2 (" in last.text
    assert "would leave out at least " in last.text
    assert "The scan stopped at its limit of files or time" in last.text
