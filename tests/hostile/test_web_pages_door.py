"""The web pages of F3 as doors (G4) and the `summary` verb (F2): any link is a page, a 403 or
a 404 (a 400 for what aiohttp itself refuses), never a 500, and opening one changes nothing;
any `summary` arguments get an answer in words and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.safety.links import PageLinks
from tests.adapters.slack_harness import ADMIN, SlackHarness
from tests.adapters.slack_standin import slash_command
from tests.fakes import FakeStore
from tests.hostile.test_slack_door import counts
from tests.unit.conftest import console, grantless_service

HOSTILE = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ANY = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
NUMBERS = st.integers(min_value=-(10**30), max_value=10**30).map(str)
LANGS = st.none() | st.sampled_from(["en", "fr", "de", "", "fr\x00", "FR"]) | ANY


def _signer(slack: SlackHarness) -> PageLinks:
    alerts = slack.bot.alerts
    return PageLinks("", alerts.link_secret, alerts.link_ttl)


async def _status(slack: SlackHarness, path: str) -> int:
    response = await slack.client.get(path)
    await response.read()
    return response.status


@pytest.mark.parametrize(
    "path",
    [
        "/targets/demo%00/history?expires=99999999999&sig=x",
        "/targets/%00/history",
        "/targets/" + "a" * 5000 + "/history?expires=1&sig=x",
        "/targets/d%C3%A9mo/history?expires=99999999999&sig=" + "0" * 64,
        "/targets/demo/history?expires=99999999999&sig=x&lang=fr%00",
        "/drafts/%C2%B2/review?expires=99999999999&sig=x",
        "/drafts/" + "9" * 5000 + "/review?expires=1&sig=x",
        "/drafts/-1/review?expires=1&sig=x",
        "/drafts/1/review?expires=" + "9" * 5000 + "&sig=x",
        "/drafts/1/review?expires=99999999999&sig=%C3%A9&lang=fr",
        "/jobs/1?expires=99999999999&sig=x&lang=xx",
    ],
)
async def test_a_forged_page_link_is_a_403_page_not_a_500(slack: SlackHarness, path: str) -> None:
    before = counts(slack)
    response = await slack.client.get(path)
    assert response.status in (400, 403), path  # 400: aiohttp's own line-length limit
    if response.status == 403:  # in the language the link asked for, or English
        assert "expir" in await response.text()
    assert counts(slack) == before


async def test_signed_links_to_absurd_ids_are_404s(slack: SlackHarness) -> None:
    signer, now = _signer(slack), slack.bot.clock.now()
    for url in (
        signer.review(999_999_999_999, "fr", now),  # past any row's id: never queried
        signer.review(2**31 - 1, "en", now),
        signer.job(999_999_999_999, "fr", now),
        signer.history("nope", "en", now),
    ):
        assert await _status(slack, url) == 404, url


@HOSTILE
@given(
    target=ANY | st.just("demo"),
    expires=ANY | NUMBERS | st.just("9" * 5000),
    sig=ANY | st.just("0" * 64),
    lang=LANGS,
)
async def test_any_history_link_is_refused_below_500_and_changes_nothing(
    slack: SlackHarness, target: str, expires: str, sig: str, lang: str | None
) -> None:
    if not target or target in (".", ".."):
        return  # not a /targets/{target}/history path at all
    before = counts(slack)
    query = {"expires": expires, "sig": sig} | ({"lang": lang} if lang is not None else {})
    status = await _status(slack, f"/targets/{quote(target, safe='')}/history?{urlencode(query)}")
    assert status in (400, 403, 404)  # 404: a `/` in the name leaves the route (aiohttp)
    assert counts(slack) == before


@HOSTILE
@given(
    draft=ANY | NUMBERS | st.just("9" * 5000),
    expires=ANY | NUMBERS,
    sig=ANY | st.just("0" * 64),
    lang=LANGS,
)
async def test_any_review_link_is_refused_below_500_and_changes_nothing(
    slack: SlackHarness, draft: str, expires: str, sig: str, lang: str | None
) -> None:
    if not draft or draft in (".", ".."):
        return
    before = counts(slack)
    query = {"expires": expires, "sig": sig} | ({"lang": lang} if lang is not None else {})
    status = await _status(slack, f"/drafts/{quote(draft, safe='')}/review?{urlencode(query)}")
    assert status in (400, 403, 404)
    assert counts(slack) == before


@HOSTILE
@given(name=ANY | st.sampled_from(["pages.css", "../app.py", "templates/base.html", "."]))
async def test_any_static_name_is_a_file_or_a_404(slack: SlackHarness, name: str) -> None:
    if not name or name in (".", ".."):
        return
    status = await _status(slack, f"/static/{quote(name, safe='')}")
    assert status in (200, 400, 404)
    assert status != 200 or name == "pages.css"


WORDS = ANY | NUMBERS | st.sampled_from(["#1", "1", "#0", "#" + "9" * 30, "demo", "\x00", "#"])


@settings(max_examples=300, deadline=None)
@given(arguments=st.lists(WORDS, max_size=4))
async def test_any_summary_arguments_get_words_and_change_nothing(arguments: list[str]) -> None:
    store = FakeStore()
    service = grantless_service(store, datetime(2026, 12, 4, tzinfo=UTC))
    line = " ".join(["summary", *arguments])
    reply = await service.execute_text(line, console("bob"))
    assert reply.error_key != "error.internal", line
    assert reply.text.strip()
    state = store.state
    assert (state.jobs, state.outbox) == ({}, [])


async def test_summary_with_garbage_on_slack_is_a_clear_reply(slack: SlackHarness) -> None:
    before = counts(slack)
    for text in ("summary", "summary #x\x00", "summary " + "9" * 5000, "summary #1 #2"):
        status, payload = await slack.post(slash_command(text, user=ADMIN, response_url=""))
        assert status == 200, text
        assert isinstance(payload, dict) and payload["text"].strip(), text
        assert "Traceback" not in payload["text"]
    after = counts(slack)
    assert {k: v for k, v in after.items() if k != "audit_log"} == {
        k: v for k, v in before.items() if k != "audit_log"
    }
