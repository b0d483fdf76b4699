"""The job page behind an alert's signed link (G4): opens with the signature, not without."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiohttp import ClientResponse

from bot.manifests.teams import PRIVACY_PATH, TERMS_PATH
from core.safety.links import job_path, signed_url
from tests.adapters import slack_standin
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


# -- what the page shows and how it protects itself (issue 12, item 11) ------------------------

HIDDEN = "\x00\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\ufeff\x1b\x7f\x85"


def _assert_protected(response: ClientResponse, html: str) -> None:
    csp = response.headers["Content-Security-Policy"]
    pairs = (d.strip().partition(" ") for d in csp.split(";") if d.strip())
    directives = {name: value for name, _, value in pairs}
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'none'"
    # F3's scripts and stylesheet are our own files ('self'); nothing inline runs or styles.
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "an inline script"
    assert "<style" not in html and not re.search(r"<[^>]*\s(style|on[a-z]+)=", html, re.I)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_the_job_page_shows_no_control_or_bidi_characters(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A display name that would reverse the rest of its line (U+202E) or hide behind a NUL.
    monkeypatch.setitem(slack_standin.NAMES, ADMIN, (f"Eve{HIDDEN}gnp.exe", "en-US"))
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    alerts = slack.bot.alerts
    now = slack.bot.clock.now()
    url = signed_url(alerts.public_url, job_path(1), alerts.link_secret, now, alerts.link_ttl)

    response = await slack.client.get(_local(url))
    html = await response.text()
    assert response.status == 200 and "Eve" in html and "gnp.exe" in html
    assert not any(ch in html for ch in HIDDEN), [hex(ord(c)) for c in HIDDEN if c in html]
    assert "\ufffd" in html  # something was there, and the page says so


async def test_every_page_sends_a_strict_content_security_policy(slack: SlackHarness) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    alerts = slack.bot.alerts
    now = slack.bot.clock.now()
    good = _local(
        signed_url(alerts.public_url, job_path(1), alerts.link_secret, now, alerts.link_ttl)
    )
    missing = signed_url("", job_path(99), alerts.link_secret, now, alerts.link_ttl)
    pages = {
        good: 200,
        "/jobs/1": 403,
        missing: 404,
        PRIVACY_PATH: 200,
        TERMS_PATH: 200,
        "/no/such/page": 404,
        "/healthz": 200,
    }
    for path, status in pages.items():
        response = await slack.client.get(path)
        assert response.status == status, path
        _assert_protected(response, await response.text())
