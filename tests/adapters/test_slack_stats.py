"""`stats` and performance bounds on Slack (C6), through the whole app and the Slack stand-in:
the chart as an image block with its alt text, a bound crossed alerting once (and again only
after coming back inside), and the signed chart route refusing bent and expired links."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.charts import PNG_HEIGHT, PNG_WIDTH
from core.safety.links import chart_path, signature, signed_url
from tests.adapters.slack_harness import ADMIN, SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slash_command
from tests.contract.seeds import finished_job

SECRET = "test-link-secret"
PUBLIC = "https://bot.example.org"


@pytest.fixture
async def bounded(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(
        tmp_path,
        standin,
        targets=[
            {"name": "quick", "kind": "command", "command": ["true"], "max_avg_duration": "1m"}
        ],
        public_url=PUBLIC,
        link_secret=SECRET,
    ) as harness:
        yield harness


async def _say(slack: SlackHarness, text: str, channel: str = "C0OPS") -> Any:
    _, body = await slack.post(slash_command(text, user=ADMIN, response_url="", channel=channel))
    return body


async def _seed(slack: SlackHarness, count: int, seconds: float) -> None:
    """`count` jobs of `quick` that took `seconds` each, ended in the last hour and today (the
    alt text says "since today"; half an hour before a run just after midnight is yesterday)."""
    now = slack.bot.clock.now()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for n in range(count):
        end = max(now - timedelta(minutes=30), midnight) + timedelta(seconds=n)
        await finished_job(slack.bot.uow_factory, "quick", end, seconds, None)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _performance_alerts(standin: SlackStandIn) -> list[dict[str, Any]]:
    return [
        p
        for p in standin.called("chat.postMessage")
        if p["channel"] == "C0ALERTS" and p["text"].startswith("quick crossed a performance bound")
    ]


async def test_a_crossed_bound_alerts_once_and_again_only_after_coming_back(
    bounded: SlackHarness, standin: SlackStandIn
) -> None:
    await _say(bounded, "subscribe quick performance", channel="C0ALERTS")
    await _seed(bounded, 3, 600)  # 10 min each: far above the 1 min bound
    await _say(bounded, "run quick")
    await bounded.settle()
    await bounded.eventually(
        "SELECT count(*) FROM deliveries WHERE channel = 'C0ALERTS' AND state = 'sent'", [(1,)]
    )
    [alert] = _performance_alerts(standin)
    assert "above the 1 min bound" in alert["text"]
    assert f"{PUBLIC}/jobs/4?expires=" in alert["text"]  # the job whose end tipped it
    [image] = [b for b in alert["blocks"] if b["type"] == "image"]
    assert image["alt_text"].startswith("Average duration ")
    assert "; above the 1 min bound since today." in image["alt_text"]
    assert urlsplit(image["image_url"]).path == chart_path("quick", 14)

    await _say(bounded, "run quick")  # still outside: no second alert
    await bounded.settle()
    await _seed(bounded, 40, 1)  # enough quick runs to bring the average back inside
    await _say(bounded, "run quick")
    await bounded.settle()
    assert bounded.rows("SELECT outside FROM performance_state") == [("",)]
    await _seed(bounded, 10, 3600)  # and out again
    await _say(bounded, "run quick")
    await bounded.settle()
    await bounded.eventually(
        "SELECT count(*) FROM deliveries WHERE channel = 'C0ALERTS' AND state = 'sent'", [(2,)]
    )
    assert len(_performance_alerts(standin)) == 2
    assert bounded.rows("SELECT kind FROM outbox WHERE kind LIKE 'performance%'") == [
        ("performance.bound",),
        ("performance.bound",),
    ]


async def test_stats_answers_with_the_chart_as_an_image_with_its_alt_text(
    bounded: SlackHarness,
) -> None:
    await _seed(bounded, 2, 600)
    body = await _say(bounded, "stats quick --days 7")
    assert body["text"].startswith("Performance · quick · 7 days — outside its bounds")
    assert (
        "Duration: ······▄  10 min to 10 min, 10 min on average; above the 1 min bound"
        in (body["text"])
    )
    [image] = [b for b in body["blocks"] if b["type"] == "image"]
    assert image["alt_text"] == (
        "Average duration stayed around 10 min over 7 days; above the 1 min bound since today."
    )
    assert f"[{image['alt_text']}]" in body["text"]  # the fallback says it too
    chart = urlsplit(image["image_url"])
    got = await bounded.client.get(f"{chart.path}?{chart.query}")
    assert got.status == 200 and got.content_type == "image/png"
    assert _png_size(await got.read()) == (PNG_WIDTH, PNG_HEIGHT)


@pytest.mark.parametrize(
    "bend",
    [
        lambda path, q: (path.replace("/7.png", "/8.png"), q),  # another window
        lambda path, q: (path.replace("/quick/", "/other/"), q),  # another target
        lambda path, q: (path, {**q, "sig": ["0" * 64]}),  # a forged signature
        lambda path, q: (path, {**q, "expires": [str(int(q["expires"][0]) + 60)]}),  # kept alive
        lambda path, q: (path.replace("/7.png", "/seven.png"), q),
    ],
)
async def test_a_bent_chart_link_is_refused(bounded: SlackHarness, bend: Any) -> None:
    now = bounded.bot.clock.now()
    link = urlsplit(
        signed_url(PUBLIC, chart_path("quick", 7), SECRET.encode(), now, timedelta(hours=1))
    )
    path, query = bend(link.path, parse_qs(link.query))
    got = await bounded.client.get(path, params={k: v[0] for k, v in query.items()})
    assert got.status == 403
    assert got.content_type != "image/png"


async def test_an_expired_or_unknown_chart_is_refused_with_a_4xx(bounded: SlackHarness) -> None:
    secret = SECRET.encode()
    past = int(bounded.bot.clock.now().timestamp()) - 1
    expired = chart_path("quick", 7)
    got = await bounded.client.get(
        expired, params={"expires": str(past), "sig": signature(secret, expired, past)}
    )
    assert got.status == 403
    later = past + 3600
    for path in (chart_path("gone", 7), chart_path("quick", 0), chart_path("quick", 999)):
        got = await bounded.client.get(
            path, params={"expires": str(later), "sig": signature(secret, path, later)}
        )
        assert got.status == 404, path
