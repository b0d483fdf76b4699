"""`exportbot report` end to end against the bot's own job-event API (#16): a success and a
failure whose output holds a secret become jobs, the secret redacted in what is kept.

The API's server side comes with the `api` branch; until it is merged this module is skipped
(it ran green on a trial merge of both branches)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack_harness import ADMIN, SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slash_command

api_client = pytest.importorskip("tests.adapters.api_client", reason="the job-event API's side")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def api(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(
        tmp_path, standin, targets=[{"name": "db", "kind": "reported", "max_runtime": "1h"}]
    ) as harness:
        yield harness


async def _report(url: str, key: str, *command: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPORTBOT_")}
    env.update(PYTHONPATH=str(ROOT), EXPORTBOT_API_URL=url, EXPORTBOT_API_KEY=key)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "report",
        "--target",
        "db",
        "--",
        *command,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, err.decode()


async def test_a_success_and_a_failure_with_a_secret_become_jobs(api: SlackHarness) -> None:
    key: str = await api_client.new_key(api.client, "cron", "db")
    url = str(api.client.make_url("/")).rstrip("/")
    status, err = await _report(url, key, sys.executable, "-c", "print('dumped')")
    assert (status, err) == (0, "")
    script = "print('password=hunter2hunter2 refused'); raise SystemExit(3)"
    status, err = await _report(url, key, sys.executable, "-c", script)
    assert (status, err) == (3, "")  # accepted: nothing said on stderr, the status kept
    rows = api.rows("SELECT state, origin_kind, error FROM jobs ORDER BY id")
    assert rows == [("succeeded", "api", None), ("failed", "api", "exit status 3")]
    tails = [row[0] for row in api.rows("SELECT log_tail FROM api_runs ORDER BY job_id")]
    assert "dumped" in tails[0]
    assert "hunter2hunter2" not in tails[1] and "refused" in tails[1]


async def test_a_wrapped_failure_alerts_a_channel_without_its_secret(
    api: SlackHarness, standin: SlackStandIn
) -> None:
    """The secret a wrapped command printed reaches neither the alert in chat nor the audit
    log: the wrapper redacts on the host, and the server again."""
    await api.post(
        slash_command("subscribe db failed", user=ADMIN, response_url="", channel="C0ALERTS")
    )
    await api.settle()
    key: str = await api_client.new_key(api.client, "cron", "db")
    url = str(api.client.make_url("/")).rstrip("/")
    script = "print('connecting with password=hunter2hunter2'); raise SystemExit(2)"
    status, err = await _report(url, key, sys.executable, "-c", script)
    assert (status, err) == (2, "")
    await api.settle()
    posts = await standin.wait_for("chat.postMessage", 1)
    [alert] = [p for p in posts if p["channel"] == "C0ALERTS"]
    assert "db" in alert["text"] and "connecting with" in alert["text"]
    await api.bot.audit_writer.flush()
    kept = repr(posts) + repr(api.rows("SELECT * FROM audit_log"))
    assert "hunter2hunter2" not in kept
