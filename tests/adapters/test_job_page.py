"""The job page behind an alert's signed link (G4): opens with the signature, not without."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from core.links import job_path, signed_url
from tests.adapters.slack_harness import ADMIN, SlackHarness
from tests.adapters.slack_standin import slash_command


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_signed_link_opens_the_job_page_and_a_bent_one_does_not(
    slack: SlackHarness,
) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    alerts = slack.bot.alerts
    now = slack.bot.clock.now()
    url = signed_url(alerts.public_url, job_path(1), alerts.link_secret, now, alerts.link_ttl)

    response = await slack.client.get(_local(url))
    assert response.status == 200 and response.content_type == "text/html"
    html = await response.text()
    assert '<html lang="en">' in html
    assert "<h1>Job #1 · demo — succeeded</h1>" in html
    assert 'role="status" aria-live="polite"' in html and "SHA-256" in html

    french = await slack.client.get(_local(url), headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "<h1>Job #1 · demo — réussi</h1>" in await french.text()

    bent = _local(url).replace("/jobs/1?", "/jobs/2?")
    refused = await slack.client.get(bent)
    assert refused.status == 403 and "not valid or has expired" in await refused.text()
    assert (await slack.client.get("/jobs/1")).status == 403
    old = signed_url("", job_path(1), alerts.link_secret, now - timedelta(days=30), alerts.link_ttl)
    assert (await slack.client.get(old)).status == 403

    missing = signed_url("", job_path(99), alerts.link_secret, now, alerts.link_ttl)
    assert (await slack.client.get(missing)).status == 404
