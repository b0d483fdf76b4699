"""JSON logs from a real run (H4): the whole app on the platforms' stand-ins, its log read
line by line. Lines about a job name it and its target as fields; a platform's requests name
the platform, the workspace and a request id; a secret typed in a command or printed by a job
is in no line, message or field."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.logs import configure_logging
from tests.adapters.discord_standin import GUILD_ID, DiscordStandIn, slash_command
from tests.adapters.observed_harness import Observed, observed_app
from tests.adapters.slack_harness import ADMIN
from tests.adapters.slack_standin import TEAM, SlackStandIn
from tests.adapters.slack_standin import slash_command as slack_command
from tests.adapters.teams_harness import teams_client, teams_settings
from tests.adapters.teams_standin import TENANT, ConnectorStandIn, message

SECRET = "ghp_0123456789abcdefghijABCDEFGHIJklmnopqr"
LEAKY = ["sh", "-c", f"echo 'push refused: token={SECRET}' >&2; exit 2"]
TARGETS = [
    {"name": "quick", "kind": "command", "command": ["true"]},
    {"name": "leaky", "kind": "command", "command": LEAKY},
]
JOB_IN_TEXT = re.compile(r"job #(\d+)")


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """The server's own logging configuration, JSON, written here instead of stderr; DEBUG,
    which adds a line per command answered."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging("DEBUG", "json", stream)
    try:
        yield stream
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
async def observed(
    tmp_path: Path, standin: SlackStandIn, discord_api: DiscordStandIn, log_stream: io.StringIO
) -> AsyncIterator[Observed]:
    async with observed_app(tmp_path, standin, discord_api, targets=TARGETS) as running:
        yield running


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_json_lines_of_a_session_carry_job_request_and_platform_fields(
    observed: Observed, log_stream: io.StringIO
) -> None:
    for text in ("run quick", "run leaky", f"frobnicate {SECRET}", f"help {SECRET}"):
        await observed.slack.post(slack_command(text, user=ADMIN, response_url=""))
        await observed.settle()
    await observed.discord.send(slash_command("run", {"target": "quick"}))
    await observed.settle()
    written = lines(log_stream)

    assert SECRET[8:] not in log_stream.getvalue()  # not in any message, field or traceback

    about_jobs = [line for line in written if JOB_IN_TEXT.search(line["message"])]
    started = [line for line in about_jobs if line["message"].endswith("started")]
    assert len(started) == 3  # quick twice, leaky once
    for line in about_jobs:
        named = int(JOB_IN_TEXT.search(line["message"]).group(1))  # type: ignore[union-attr]
        assert line["job_id"] == named, line
        assert line["target"] in ("quick", "leaky"), line
    ends = {line["job_id"]: line["message"] for line in about_jobs if " after " in line["message"]}
    assert [ends[job_id].split(" after ")[0] for job_id in sorted(ends)] == [
        "job #1 of quick succeeded",
        "job #2 of leaky failed",
        "job #3 of quick succeeded",
    ]

    handled = [line for line in written if line["logger"] == "core.app.service"]
    assert len(handled) == 5  # one line per command answered
    for line in handled:
        assert line["platform"] in ("slack", "discord"), line
        assert line.get("workspace") == (TEAM if line["platform"] == "slack" else GUILD_ID), line
        assert re.fullmatch(r"[0-9a-f]{16}", line["request_id"]), line
    assert len({line["request_id"] for line in handled}) == 5  # one id per request
    assert {line["platform"] for line in handled} == {"slack", "discord"}
    # The job started from a request logs as the job, not as that request.
    assert all("request_id" not in line for line in started)


async def test_a_teams_message_logs_and_counts_as_teams_in_its_tenant(
    tmp_path: Path, connector: ConnectorStandIn, log_stream: io.StringIO
) -> None:
    async with teams_client(teams_settings(tmp_path)) as teams:
        for text in ("help", "frobnicate"):
            sent = message(text, service_url=connector.service_url)
            assert (await teams.post("/api/messages", json=sent)).status in (200, 202)
        await connector.wait_for(2)
        scraped = await (await teams.get("/metrics")).text()
    handled = [line for line in lines(log_stream) if line["logger"] == "core.app.service"]
    assert [(line["platform"], line["workspace"]) for line in handled] == [("teams", TENANT)] * 2
    assert len({line["request_id"] for line in handled}) == 2
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert found[("exportbot_ack_seconds_count", (("platform", "teams"),))] == 2
    commands = "exportbot_commands_total"
    ok = (("outcome", "ok"), ("platform", "teams"), ("verb", "help"))
    invalid = (("outcome", "invalid"), ("platform", "teams"), ("verb", "invalid"))
    assert found[(commands, ok)] == 1 and found[(commands, invalid)] == 1
