"""The job-event API's core on the fakes (#16): signatures, keys, bodies, the chat verb."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.bootstrap import PLATFORMS
from core.api.admin import KeyRefused, create_key
from core.api.bodies import LOG_TAIL_MAX, REPORT_FIELDS, check, parse_json
from core.api.keys import derive_secret, fingerprint, printed_key
from core.api.openapi import openapi_document
from core.api.problems import ApiProblem
from core.api.service import ApiService, Operation
from core.api.signature import sign, signature_matches, timestamp_fresh
from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.model import Actor, Job, Principal, TargetKind, TargetSpec
from core.jobs.executor import JobExecutor
from core.jobs.runners.base import ReportedElsewhere
from tests.fakes import FakeJobArchive, FakeStore
from tests.unit.conftest import RecordingJobControl, console, press

MASTER = b"m" * 32
OPERATOR = Actor(Principal("cli", "", "ops"), "ops")


def test_a_key_is_derived_from_master_name_and_nonce_and_only_its_fingerprint_is_kept() -> None:
    printed = printed_key(MASTER, "cron", "n1")
    assert printed == "cron." + derive_secret(MASTER, "cron", "n1")
    assert printed != printed_key(MASTER, "cron", "n2") != printed_key(b"x" * 32, "cron", "n1")
    assert len(fingerprint(printed)) == 64 and derive_secret(MASTER, "cron", "n1") not in (
        fingerprint(printed)
    )


def test_a_signature_covers_timestamp_and_body_and_the_window_is_five_minutes() -> None:
    header = sign("k.s", "1700000000", b"{}")
    assert signature_matches("k.s", "1700000000", b"{}", header)
    assert not signature_matches("k.s", "1700000001", b"{}", header)
    assert not signature_matches("k.s", "1700000000", b"{ }", header)
    assert not signature_matches("k.t", "1700000000", b"{}", header)
    assert timestamp_fresh("1700000300", 1_700_000_000) and timestamp_fresh("1699999700", 1.7e9)
    assert not timestamp_fresh("1700000301", 1_700_000_000)
    assert not any(timestamp_fresh(t, 1.7e9) for t in ("", "-1", "1e9", "１７", "17000000000000"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=12), st.none() | st.booleans() | st.integers() | st.text()))
def test_a_body_is_accepted_only_when_every_field_is_known_and_well_typed(
    values: dict[str, Any],
) -> None:
    try:
        checked = check(values, REPORT_FIELDS)
    except ApiProblem as problem:
        assert problem.status == 422 and problem.detail
        return
    assert set(checked) <= set(REPORT_FIELDS)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_parsed_or_refused_as_a_problem(body: bytes) -> None:
    try:
        parse_json(body)
    except ApiProblem as problem:
        assert problem.status in (400, 422)


def test_the_openapi_document_forbids_unknown_fields_in_every_body() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    bodies = [s for n, s in document["components"]["schemas"].items() if n.endswith("Body")]
    assert len(bodies) == 4 and all(s["additionalProperties"] is False for s in bodies)
    assert set(document["components"]["securitySchemes"]) == {"key", "timestamp", "signature"}
    json.dumps(document)  # serialisable as served


@pytest.fixture
def api_store() -> FakeStore:
    return FakeStore()


async def _signed_call(
    api: ApiService, printed: str, clock: FrozenClock, path_rid: str | None, body: dict[str, Any]
) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    stamp = str(int(clock.now().timestamp()))
    headers = {
        "X-Exportbot-Key": printed.partition(".")[0],
        "X-Exportbot-Timestamp": stamp,
        "X-Exportbot-Signature": sign(printed, stamp, raw),
    }
    operation = Operation.FINISH if path_rid else Operation.START
    answer = await api.handle(operation, "db", path_rid, headers, raw)
    return answer.body


async def test_a_run_left_unfinished_is_not_interrupted_at_restart_and_ends_once(
    api_store: FakeStore, clock: FrozenClock
) -> None:
    targets = {"db": TargetSpec("db", TargetKind.REPORTED)}
    ended: list[int] = []

    async def told(job: Job) -> None:
        ended.append(job.id)

    api = ApiService(api_store.uow, targets, clock, lambda: MASTER, job_ended=told)
    printed = await create_key(api_store.uow, MASTER, clock, OPERATOR, "cron", ["db"])
    started = await _signed_call(api, printed, clock, None, {"rid": "a"})
    clock.advance(timedelta(hours=3))
    # A restart meanwhile: the executor's recovery leaves a run it does not own alone.
    executor = JobExecutor(api_store.uow, targets, lambda spec: ReportedElsewhere(spec.name), clock)
    assert await executor.recover() == []
    finished = await _signed_call(api, printed, clock, "a", {"exit_status": 0})
    await api.idle()
    assert (started["state"], finished["state"], ended) == ("running", "succeeded", [1])
    job = api_store.state.jobs[1]
    assert job.duration == timedelta(hours=3)
    with pytest.raises(ApiProblem) as again:
        await _signed_call(api, printed, clock, "a", {"exit_status": 0})
    assert again.value.slug == "replayed" and ended == [1]


async def test_a_key_name_is_checked_and_never_reused(
    api_store: FakeStore, clock: FrozenClock
) -> None:
    await create_key(api_store.uow, MASTER, clock, OPERATOR, "cron")
    for bad in ("cron", "", "has space", "x" * 65, "../etc"):
        with pytest.raises(KeyRefused):
            await create_key(api_store.uow, MASTER, clock, OPERATOR, bad)
    assert list(api_store.state.api_keys) == ["cron"]
    assert [e.action for e in api_store.state.audit] == ["apikey.create"]


def test_a_log_tail_limit_is_100_kib() -> None:
    assert LOG_TAIL_MAX == 102_400


async def test_admins_list_and_revoke_keys_in_chat_and_others_are_refused(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await create_key(store.uow, MASTER, clock, OPERATOR, "cron", ["demo"])
    listed = await service.execute_text("apikey list", console("alice"))
    assert "cron" in listed.text and "demo" in listed.text and "never" in listed.text
    refused = await service.execute_text("apikey revoke cron", console("bob"))
    assert refused.error_key is not None and not store.state.api_keys["cron"].revoked
    missing = await service.execute_text("apikey revoke", console("alice"))
    assert missing.error_key == "error.apikey_name_needed"
    unknown = await service.execute_text("apikey revoke nope", console("alice"))
    assert unknown.error_key == "error.apikey_not_found"
    revoked = await service.execute_text("apikey revoke cron", console("alice"))
    assert revoked.error_key in (None, "") and store.state.api_keys["cron"].revoked
    french = await service.execute_text("apikey list", console("alice", "fr"))
    assert "révoquée" in french.text
    actions = [(e.action, e.outcome.value) for e in store.state.audit if e.actor != "cli:ops"]
    assert ("apikey.revoke", "ok") in actions
    assert any(outcome == "refused" for _, outcome in actions)


async def test_the_log_tail_button_shows_a_reported_runs_own_redacted_output(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    targets = {"demo": TargetSpec("demo", TargetKind.REPORTED)}
    api = ApiService(store.uow, targets, clock, lambda: MASTER)
    printed = await create_key(store.uow, MASTER, clock, OPERATOR, "cron")
    raw = json.dumps(
        {"exit_status": 4, "log_tail": "x" * 5000 + "\nend: token=ghp_" + "a" * 36}
    ).encode()
    stamp = str(int(clock.now().timestamp()))
    headers = {
        "X-Exportbot-Key": "cron",
        "X-Exportbot-Timestamp": stamp,
        "X-Exportbot-Signature": sign(printed, stamp, raw),
    }
    await api.handle(Operation.REPORT, "demo", None, headers, raw)
    tail = await press(service, "job.log", "1:0", console("dave"))
    assert tail.sections[0].endswith("end: token=[redacted]") and "ghp_" not in tail.sections[0]
    assert len(tail.sections[0]) < 2600


async def test_status_of_a_reported_target_says_its_tool_reports_it(
    store: FakeStore, clock: FrozenClock
) -> None:
    targets = {"db": TargetSpec("db", TargetKind.REPORTED)}
    service = CommandService(store.uow, targets, clock, RecordingJobControl(), platforms=PLATFORMS)
    status = await service.execute_text("status db", console("alice"))
    assert "job-event API" in status.text and "run db" not in status.text
    refused = await service.execute_text("run db", console("alice"))
    assert refused.error_key == "error.target_reported" and not store.state.jobs


async def test_stats_and_the_audit_export_see_a_reported_run(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    api = ApiService(
        store.uow, {"demo": TargetSpec("demo", TargetKind.REPORTED)}, clock, lambda: MASTER
    )
    printed = await create_key(store.uow, MASTER, clock, OPERATOR, "cron")
    raw = json.dumps({"exit_status": 0, "duration": 90, "size": 7_000_000}).encode()
    stamp = str(int(clock.now().timestamp()))
    headers = {
        "X-Exportbot-Key": "cron",
        "X-Exportbot-Timestamp": stamp,
        "X-Exportbot-Signature": sign(printed, stamp, raw),
    }
    await api.handle(Operation.REPORT, "demo", None, headers, raw)
    stats = await service.execute_text("stats demo", console("alice"))
    assert "1 successful job in" in stats.text and "7.0 MB on average" in stats.text
    rows = [
        row
        async for batch in FakeJobArchive(store).export_batches(
            clock.now() - timedelta(days=1), clock.now() + timedelta(days=1)
        )
        for row, _ in batch
    ]
    [row] = rows
    assert "api" in row and "cron" in row and 7_000_000 in row
