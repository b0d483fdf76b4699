"""The job-event API (#16): reported runs become ordinary jobs, every bad call is refused
with its problem document and writes nothing, and a reported failure alerts with its
redacted log tail."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.adapters.api_client import WRITTEN_TABLES, call, new_key
from tests.adapters.slack_harness import ADMIN, SlackHarness, slack_harness
from tests.adapters.slack_standin import TEAM, SlackStandIn, event_callback, slash_command

TARGETS = [
    {"name": "db", "kind": "reported", "quota": 1000},
    {"name": "site", "kind": "reported"},
    {"name": "local", "kind": "command", "command": ["true"]},
]
RUNS = "/api/v1/targets/db/runs"
SECRET_LINE = "pg_dump: error: password=hunter2-very-secret rejected by db.internal"


@pytest.fixture
async def api(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(
        tmp_path,
        standin,
        targets=TARGETS,
        public_url="https://bot.example.org",
        link_secret="test-link-secret",
    ) as harness:
        yield harness


def _counts(api: SlackHarness) -> dict[str, int]:
    return {t: api.rows(f"SELECT count(*) FROM {t}")[0][0] for t in WRITTEN_TABLES}


async def test_a_reported_run_is_an_ordinary_job_from_start_to_finish(api: SlackHarness) -> None:
    key = await new_key(api.client, "cron", "db")
    status, run, _ = await call(
        api.client, RUNS, {"rid": "nightly-1", "host": "db-1", "command": "pg_dump app"}, key
    )
    assert (status, run) == (
        201,
        {"job": 1, "rid": "nightly-1", "target": "db", "state": "running"},
    )
    status, moved, _ = await call(
        api.client, f"{RUNS}/nightly-1/progress", {"bytes": 4096, "percent": 40.5}, key
    )
    assert status == 200 and moved["state"] == "running"
    assert api.rows("SELECT bytes_done, percent FROM api_runs") == [(4096, 40.5)]
    checksum = "ab" * 32
    status, ended, _ = await call(
        api.client,
        f"{RUNS}/nightly-1/finish",
        {"exit_status": 0, "size": 800, "files": 1, "checksum": f"sha256:{checksum}"},
        key,
    )
    assert (status, ended["state"]) == (200, "succeeded")
    assert api.rows(
        "SELECT state, origin_kind, origin_reference, requester_name, worker, size_bytes, sha256 "
        "FROM jobs"
    ) == [("succeeded", "api", "cron", "cron", "db-1", 800, checksum)]
    assert api.rows("SELECT used_bytes FROM quota_usage WHERE target = 'db'") == [(800,)]
    await api.bot.audit_writer.flush()
    actions = api.rows("SELECT actor, action, job_id FROM audit_log WHERE actor = 'api:cron'")
    assert [a[1] for a in actions] == ["api.run.started", "api.run.progress", "api.run.finished"]
    assert api.rows("SELECT last_used_at IS NOT NULL FROM api_keys") == [(1,)]


async def test_a_one_shot_report_makes_a_job_of_the_duration_told(api: SlackHarness) -> None:
    key = await new_key(api.client, "ci")
    status, run, _ = await call(
        api.client,
        "/api/v1/targets/site/report",
        {"exit_status": 3, "duration": 120, "host": "ci-7", "log_tail": "boom\n"},
        key,
    )
    assert status == 201 and run["state"] == "failed"
    [(state, error, seconds)] = api.rows(
        "SELECT state, error, (julianday(finished_at) - julianday(started_at)) * 86400 FROM jobs"
    )
    assert (state, error) == ("failed", "exit status 3") and round(seconds) == 120
    assert api.rows("SELECT log_tail FROM api_runs") == [("boom\n",)]


def _problem(status: int, slug: str) -> tuple[int, str]:
    return status, f"/api/v1/problems/{slug}"


async def _refused(
    api: SlackHarness,
    path: str,
    payload: dict[str, Any] | bytes,
    key: str | None,
    expected: tuple[int, str],
    **options: Any,
) -> None:
    before = _counts(api)
    status, problem, content_type = await call(api.client, path, payload, key, **options)
    assert (status, problem["type"]) == expected, problem
    assert content_type == "application/problem+json"
    assert set(problem) == {"type", "title", "status", "detail"} and problem["status"] == status
    assert _counts(api) == before


async def test_unsigned_bad_stale_and_future_calls_are_refused_and_change_nothing(
    api: SlackHarness,
) -> None:
    key = await new_key(api.client, "cron", "db")
    body = {"rid": "r1"}
    await _refused(api, RUNS, body, None, _problem(401, "unsigned"))
    bent = key[:-2] + ("AA" if not key.endswith("AA") else "BB")
    await _refused(api, RUNS, body, bent, _problem(401, "bad-signature"))
    now = int(time.time())
    await _refused(api, RUNS, body, key, _problem(401, "stale"), timestamp=now - 301)
    await _refused(api, RUNS, body, key, _problem(401, "stale"), timestamp=now + 301)
    await _refused(
        api, RUNS, body, key, _problem(401, "bad-signature"),
        headers={"X-Exportbot-Signature": "sha256=" + "0" * 64},
    )  # fmt: skip


async def test_a_key_signing_for_another_name_a_revoked_key_and_a_limited_key_are_refused(
    api: SlackHarness, standin: SlackStandIn
) -> None:
    cron = await new_key(api.client, "cron", "db")
    other = await new_key(api.client, "other", "site")
    # Signed with one key's secret, presented as the other's name.
    await _refused(
        api, RUNS, {}, other, _problem(401, "bad-signature"), headers={"X-Exportbot-Key": "cron"}
    )
    await _refused(api, RUNS, {}, other, _problem(403, "forbidden-target"))
    await api.post(slash_command("apikey revoke cron", user=ADMIN, response_url=""))
    await api.settle()
    assert api.rows("SELECT revoked_at IS NOT NULL FROM api_keys WHERE name = 'cron'") == [(1,)]
    await _refused(api, RUNS, {}, cron, _problem(401, "revoked"))
    await api.bot.audit_writer.flush()
    assert api.rows("SELECT action, outcome FROM audit_log WHERE actor = 'api:other'") == [
        ("api.refused", "refused")
    ]


async def test_replays_oversized_bodies_unknown_fields_and_wrong_types_are_refused(
    api: SlackHarness,
) -> None:
    key = await new_key(api.client, "cron")
    assert (await call(api.client, RUNS, {"rid": "r1"}, key))[0] == 201
    await _refused(api, RUNS, {"rid": "r1"}, key, _problem(409, "replayed"))  # same rid + event
    fixed = int(time.time())
    finish = f"{RUNS}/r1/finish"
    assert (await call(api.client, finish, {"state": "cancelled"}, key, timestamp=fixed))[0] == 200
    # The very same request again, and the same event under a new signature.
    await _refused(
        api, finish, {"state": "cancelled"}, key, _problem(409, "replayed"), timestamp=fixed
    )
    await _refused(api, finish, {"state": "failed"}, key, _problem(409, "replayed"))
    await _refused(api, RUNS, b"{" + b" " * (1024 * 1024) + b"}", key, _problem(413, "too-large"))
    await _refused(
        api, RUNS, {"rid": "r2", "shell": "rm -rf /"}, key, _problem(422, "invalid-body")
    )
    await _refused(api, RUNS, {"rid": 7}, key, _problem(422, "invalid-body"))
    await _refused(api, finish, {"exit_status": True}, key, _problem(422, "invalid-body"))
    await _refused(api, f"{RUNS}/r2/finish", {"exit_status": 0}, key, _problem(404, "unknown-run"))
    await _refused(api, RUNS, b"{not json", key, _problem(400, "malformed"))
    await _refused(api, RUNS, b"[1]", key, _problem(422, "invalid-body"))
    await _refused(api, "/api/v1/targets/local/runs", {}, key, _problem(409, "not-reported"))
    await _refused(api, "/api/v1/targets/nowhere/runs", {}, key, _problem(404, "unknown-target"))


async def test_a_key_that_may_create_provisions_a_reported_target(api: SlackHarness) -> None:
    key = await new_key(api.client, "laptops", may_create=True)
    status, run, _ = await call(
        api.client, "/api/v1/targets/laptop-9/report", {"state": "succeeded"}, key
    )
    assert status == 201 and run["target"] == "laptop-9"
    assert "laptop-9" in api.bot.targets
    assert api.rows("SELECT name, created_by FROM provisioned_targets") == [("laptop-9", "laptops")]


async def test_running_a_reported_target_says_an_outside_tool_runs_it(
    api: SlackHarness, standin: SlackStandIn
) -> None:
    status, reply = await api.post(slash_command("run db", user=ADMIN, response_url=""))
    await api.settle()
    text = reply["text"] if isinstance(reply, dict) else str(reply)
    assert status == 200 and "outside tool" in text, reply
    assert api.rows("SELECT count(*) FROM jobs") == [(0,)]


async def test_a_reported_failure_alerts_with_its_redacted_log_tail(
    api: SlackHarness, standin: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await api.post(
        slash_command("subscribe db failed", user=ADMIN, response_url="", channel="C0ALERTS")
    )
    await api.settle()
    key = await new_key(api.client, "cron", "db")
    tail = "dumping table users\n" + SECRET_LINE + "\n"
    body = {
        "exit_status": 1,
        "host": "db-1",
        "log_tail": tail,
        "command": "pg_dump --password=hunter2-very-secret",
    }
    status, _, _ = await call(api.client, "/api/v1/targets/db/report", body, key)
    assert status == 201
    await api.settle()
    posts = await standin.wait_for("chat.postMessage", 1)
    [alert] = [p for p in posts if p["channel"] == "C0ALERTS"]
    assert "Show log tail" in alert["text"] and "rejected by db.internal" in alert["text"]
    assert "API key cron on db-1" in alert["text"]
    # Remembered as the job's alert, so a note written in its thread lands on job #1.
    await api.eventually(
        "SELECT channel, kind, job_id FROM posted_messages WHERE channel = 'C0ALERTS'",
        [("C0ALERTS", "alert", 1)],
    )
    # A note written in the alert's thread lands on the reported job, as on any job's.
    [(alert_ts,)] = api.rows("SELECT message_id FROM posted_messages WHERE channel = 'C0ALERTS'")
    mention = {
        "type": "app_mention", "user": ADMIN, "text": "<@UBOT> the password was rotated",
        "ts": "1700000901.000100", "thread_ts": alert_ts, "channel": "C0ALERTS",
        "event_ts": "1700000901.000100", "team": TEAM,
    }  # fmt: skip
    await api.post(event_callback(mention, event_id="Ev01"), json_body=True)
    await api.settle()
    assert api.rows("SELECT job_id, text FROM annotations") == [(1, "the password was rotated")]
    everything = (
        repr(posts)
        + repr(api.rows("SELECT * FROM audit_log"))
        + repr(api.rows("SELECT * FROM api_runs"))
        + caplog.text
    )
    assert "hunter2" not in everything


async def test_a_damaged_master_key_answers_503_and_writes_nothing(api: SlackHarness) -> None:
    master = api.bot.settings.api_master_key_path
    master.parent.mkdir(parents=True, exist_ok=True)
    master.write_text("damaged\n")
    await _refused(api, RUNS, {}, "cron.whatever", _problem(503, "unavailable"))
