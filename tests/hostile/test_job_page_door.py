"""GET /jobs/{id} as a door (G4, G1): a bent, forged or absurd link is a 403 or 404 page,
never a 500, and opening pages changes nothing."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.safety.links import job_path, signed_url
from tests.adapters.slack_harness import ADMIN, SlackHarness
from tests.adapters.slack_standin import slash_command
from tests.hostile.test_slack_door import counts

HOSTILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def _status(slack: SlackHarness, path: str) -> int:
    response = await slack.client.get(path)
    await response.read()
    return response.status


def _signed(slack: SlackHarness, path: str) -> str:
    alerts = slack.bot.alerts
    return signed_url("", path, alerts.link_secret, slack.bot.clock.now(), alerts.link_ttl)


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/%C2%B2",  # '²': str.isdigit() says yes, int() says no
        "/jobs/%D9%A3",  # an Arabic-Indic three
        "/jobs/" + "9" * 5000,  # past int()'s 4,300 digits
        "/jobs/1?expires=" + "9" * 5000 + "&sig=x",
        "/jobs/1?expires=%C2%B2&sig=x",
        "/jobs/1?expires=1&sig=%C3%A9",  # compare_digest refuses non-ASCII text
        "/jobs/1?sig=%C3%A9&expires=99999999999",
        "/jobs/1?expires=-1&sig=",
        "/jobs/%2B1?expires=1&sig=x",
    ],
)
async def test_a_forged_link_is_a_403_page_not_a_500(slack: SlackHarness, path: str) -> None:
    before = counts(slack)
    response = await slack.client.get(path)
    assert response.status == 403
    assert "not valid or has expired" in await response.text()
    assert counts(slack) == before


async def test_a_signed_link_to_a_job_that_does_not_exist_is_a_404(slack: SlackHarness) -> None:
    assert await _status(slack, _signed(slack, job_path(999_999_999_999))) == 404


ANY = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
NUMBERS = st.integers(min_value=-(10**30), max_value=10**30).map(str)


@HOSTILE
@given(
    job=ANY | NUMBERS | st.just("9" * 5000),
    expires=ANY | NUMBERS | st.just("9" * 5000),
    sig=ANY | st.just("0" * 64),
)
async def test_any_job_link_is_a_page_below_500_and_changes_nothing(
    slack: SlackHarness, job: str, expires: str, sig: str
) -> None:
    if not job or job in (".", ".."):
        return  # not a /jobs/{id} path at all
    before = counts(slack)
    query = urlencode({"expires": expires, "sig": sig})
    status = await _status(slack, f"/jobs/{quote(job, safe='')}?{query}")
    assert status in (400, 403, 404)  # 400: aiohttp's own limit on a request line's length
    assert counts(slack) == before


@HOSTILE
@given(job=st.integers(min_value=0, max_value=10**12 - 1))
async def test_any_correctly_signed_job_number_is_a_page_or_a_404(
    slack: SlackHarness, job: int
) -> None:
    status = await _status(slack, _signed(slack, job_path(job)))
    assert status in (200, 404)


async def test_the_page_of_a_real_job_still_opens(slack: SlackHarness) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    assert await _status(slack, _signed(slack, job_path(1))) == 200
