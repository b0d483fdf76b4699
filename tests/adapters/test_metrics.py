"""GET /metrics (H4) after a scripted session on Slack and Discord: parsed with
prometheus_client's own parser, every count is what the session did."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from tests.adapters.discord_standin import CHANNEL_ID, DiscordStandIn, slash_command
from tests.adapters.observed_harness import Observed, observed_app
from tests.adapters.slack_harness import ADMIN, VIEWER, SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn
from tests.adapters.slack_standin import slash_command as slack_command

FAILING = ["sh", "-c", "echo 'the NAS refused us' >&2; exit 2"]
TARGETS = [
    {"name": "quick", "kind": "command", "command": ["true"]},
    {"name": "broken", "kind": "command", "command": FAILING},
]
OTHER_CHANNEL = "1300000000000000099"
POST_MESSAGE = "POST /channels/{channel_id}/messages"
TOKEN = "scrape-me-7f3a9c"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of the exposition, by name and sorted labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(observed: Observed, headers: dict[str, str] | None = None) -> tuple[int, str]:
    response = await observed.slack.client.get("/metrics", headers=headers or {})
    return response.status, await response.text()


async def _slack(observed: Observed, text: str, user: str = ADMIN) -> Any:
    status, answer = await observed.slack.post(slack_command(text, user=user, response_url=""))
    assert status == 200
    return answer


async def _discord_subscribe(observed: Observed, channel: str) -> None:
    interaction = slash_command("subscribe", {"target": "broken", "kinds": "failed"})
    interaction["channel_id"] = channel
    if isinstance(interaction.get("channel"), dict):
        interaction["channel"]["id"] = channel
    status, _ = await observed.discord.send(interaction)
    assert status == 200


@pytest.fixture
async def observed(
    tmp_path: Path, standin: SlackStandIn, discord_api: DiscordStandIn
) -> AsyncIterator[Observed]:
    async with observed_app(tmp_path, standin, discord_api, targets=TARGETS) as running:
        yield running


async def test_the_metrics_count_exactly_what_a_session_on_slack_and_discord_did(
    observed: Observed, discord_api: DiscordStandIn
) -> None:
    # Two Discord channels follow `broken`'s failures: the first post to Discord is told to
    # wait 31 s (past what discord.py waits out itself), the second is refused for good.
    await _discord_subscribe(observed, CHANNEL_ID)
    await _discord_subscribe(observed, OTHER_CHANNEL)
    discord_api.rate_limit_next(POST_MESSAGE, retry_after=31)
    discord_api.fail_next(POST_MESSAGE, status=403)
    await _slack(observed, "help")
    await _slack(observed, "frobnicate")  # invalid
    await _slack(observed, "run quick", user=VIEWER)  # refused: a viewer may not run
    await _slack(observed, "run quick")
    await observed.settle()
    await _slack(observed, "run broken")
    await observed.settle()
    # Deliveries: quick's end to its requester (Slack DM); broken's failure to the two
    # Discord channels and its requester; the dead letter's notice to both admins' DMs.
    await observed.slack.eventually(
        "SELECT platform, private, state, count(*) FROM deliveries"
        " GROUP BY platform, private, state ORDER BY platform, private, state",
        [
            ("discord", 0, "dead", 1),
            ("discord", 0, "pending", 1),  # waits out its 31 s
            ("discord", 1, "sent", 1),
            ("slack", 1, "sent", 3),
        ],
        seconds=20,
    )
    status, text = await scrape(observed)
    assert status == 200
    found = samples(text)

    def commands(verb: str, platform: str, outcome: str) -> float:
        return value(
            found, "exportbot_commands_total", verb=verb, platform=platform, outcome=outcome
        )

    assert commands("subscribe", "discord", "ok") == 2
    assert commands("help", "slack", "ok") == 1
    assert commands("invalid", "slack", "invalid") == 1
    assert commands("run", "slack", "refused") == 1
    assert commands("run", "slack", "ok") == 2
    every_command = sum(v for (n, _), v in found.items() if n == "exportbot_commands_total")
    assert every_command == 7
    # Each platform request was answered, and timed, once.
    assert value(found, "exportbot_ack_seconds_count", platform="slack") == 5
    assert value(found, "exportbot_ack_seconds_count", platform="discord") == 2
    assert value(found, "exportbot_ack_seconds_bucket", platform="slack", le="+Inf") == 5
    # Jobs: one of each ending; none still queued or running.
    finished = "exportbot_jobs_finished_total"
    assert value(found, finished, target="quick", state="succeeded") == 1
    assert value(found, finished, target="broken", state="failed") == 1
    assert value(found, "exportbot_job_duration_seconds_count", target="quick") == 1
    assert value(found, "exportbot_job_duration_seconds_count", target="broken") == 1
    for target in ("quick", "broken"):
        for state in ("queued", "running"):
            assert ("exportbot_jobs_active", (("state", state), ("target", target))) in found
            assert value(found, "exportbot_jobs_active", target=target, state=state) == 0
    # Deliveries: the 429 and the refusal on Discord; what reached Slack, timed.
    assert value(found, "exportbot_delivery_rate_limited_total", platform="discord") == 1
    assert value(found, "exportbot_delivery_dead_letters_total", platform="discord") == 1
    assert value(found, "exportbot_outbox_pending_deliveries", platform="discord") == 1
    assert value(found, "exportbot_delivery_latency_seconds_count", platform="slack") == 3
    assert value(found, "exportbot_delivery_latency_seconds_count", platform="discord") == 1
    assert value(found, "exportbot_scheduler_leader") == 1  # SQLite: the one process leads
    # Nothing names a person or a channel.
    assert ADMIN not in text and VIEWER not in text and CHANNEL_ID not in text


async def test_a_second_bot_in_the_same_process_counts_only_its_own(
    tmp_path: Path, standin: SlackStandIn
) -> None:
    async with slack_harness(tmp_path / "one", standin) as one:
        await one.post(slack_command("help", user=ADMIN, response_url=""))
        async with slack_harness(tmp_path / "two", standin) as two:
            found = samples(await (await two.client.get("/metrics")).text())
            assert value(found, "exportbot_commands_total", verb="help", platform="slack") == 0
            assert value(found, "exportbot_ack_seconds_count", platform="slack") == 0
        found = samples(await (await one.client.get("/metrics")).text())
        assert (
            value(found, "exportbot_commands_total", verb="help", platform="slack", outcome="ok")
            == 1
        )


@pytest.fixture
async def guarded(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(tmp_path, standin, metrics_token=TOKEN) as harness:
        yield harness


async def _status(slack: SlackHarness, headers: dict[str, str]) -> tuple[int, str]:
    response = await slack.client.get("/metrics", headers=headers)
    return response.status, await response.text()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": "Bearer"},
        {"Authorization": TOKEN},
    ],
)
async def test_metrics_with_a_token_set_refuse_a_missing_or_wrong_one_with_401(
    guarded: SlackHarness, headers: dict[str, str]
) -> None:
    status, body = await _status(guarded, headers)
    assert status == 401
    assert body == "a bearer token is needed\n"


async def test_metrics_with_the_right_token_answer(guarded: SlackHarness) -> None:
    for scheme in ("Bearer", "bearer"):
        status, body = await _status(guarded, {"Authorization": f"{scheme} {TOKEN}"})
        assert status == 200
        assert "exportbot_scheduler_leader" in body


async def _raw_status(slack: SlackHarness, authorization: bytes) -> int:
    """GET /metrics with the header's bytes as they are (the client library would refuse
    control characters and bytes that are not text): the status line's code."""
    server = slack.client.server
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(
            b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Authorization: " + authorization + b"\r\n\r\n"
        )
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


# Any byte but the line ends (which would end the header rather than fill it).
HEADER_BYTES = st.binary(max_size=80).filter(lambda b: b"\r" not in b and b"\n" not in b)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(header=HEADER_BYTES | HEADER_BYTES.map(lambda b: b"Bearer " + b))
async def test_any_authorization_header_but_the_token_is_a_401_never_a_500(
    guarded: SlackHarness, header: bytes
) -> None:
    status = await _raw_status(guarded, header)
    assert status in (400, 401)  # 400: aiohttp's own refusal of a header it cannot parse


async def test_the_token_sent_as_raw_bytes_is_let_in(guarded: SlackHarness) -> None:
    assert await _raw_status(guarded, f"Bearer {TOKEN}".encode()) == 200
    assert await _raw_status(guarded, f"Bearer {TOKEN}\xff".encode("latin-1")) == 401
