"""`stats` and its chart route as doors (C6, G1, G4): any arguments get an answer in words and
change nothing; any chart link is a PNG, a 403 or a 404 (a 400 for what aiohttp itself refuses),
never a 500, and opening one changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.safety.links import chart_path, signed_url
from tests.adapters.slack_harness import SlackHarness
from tests.fakes import FakeStore
from tests.hostile.test_slack_door import counts
from tests.unit.conftest import console, grantless_service

HOSTILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ANY = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
NUMBERS = st.integers(min_value=-(10**30), max_value=10**30).map(str)
WORDS = ANY | NUMBERS | st.sampled_from(["demo", "site-a", "--days", "--days=3", "#3", "*"])


@settings(max_examples=300, deadline=None)
@given(arguments=st.lists(WORDS, max_size=5))
async def test_any_stats_arguments_get_words_and_change_nothing(arguments: list[str]) -> None:
    store = FakeStore()
    service = grantless_service(store, datetime(2026, 12, 4, tzinfo=UTC))
    line = " ".join(["stats", *arguments])
    reply = await service.execute_text(line, console("bob"))
    assert reply.error_key != "error.internal", line
    assert reply.text.strip()
    state = store.state
    assert (state.jobs, state.outbox, state.performance_outside) == ({}, [], {})


@HOSTILE
@given(
    target=ANY | st.just("demo"),
    days=ANY | NUMBERS | st.just("9" * 5000),
    expires=ANY | NUMBERS,
    sig=ANY | st.just("0" * 64),
)
async def test_any_chart_link_is_refused_below_500_and_changes_nothing(
    slack: SlackHarness, target: str, days: str, expires: str, sig: str
) -> None:
    if not target or target in (".", "..") or not days or days in (".", ".."):
        return  # not a /charts/{target}/{days}.png path at all
    before = counts(slack)
    query = urlencode({"expires": expires, "sig": sig})
    path = f"/charts/{quote(target, safe='')}/{quote(days, safe='')}.png?{query}"
    response = await slack.client.get(path)
    await response.read()
    assert response.status in (400, 403, 404)
    assert counts(slack) == before


@HOSTILE
@given(target=ANY | st.just("demo"), days=st.integers(min_value=-5, max_value=10**6))
async def test_any_signed_chart_is_a_png_or_a_404(
    slack: SlackHarness, target: str, days: int
) -> None:
    alerts = slack.bot.alerts
    now = slack.bot.clock.now()
    path = chart_path(quote(target, safe=""), days)
    response = await slack.client.get(
        signed_url("", path, alerts.link_secret, now, alerts.link_ttl)
    )
    body = await response.read()
    if response.status == 200:
        assert body[:8] == b"\x89PNG\r\n\x1a\n"
        assert target == "demo" and 1 <= days <= 366
    else:
        assert response.status in (403, 404)
