"""The web pages of F3 over real HTTP: a target's history and a draft's review with its diff,
opened from the links the chat replies carry (G4), in the reader's language."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.domain.model import JobState, NewJob, Origin, OriginKind
from core.safety.links import PageLinks, history_path, review_path
from core.views.pages import HISTORY_PAGE_JOBS
from tests.adapters.slack_harness import ADMIN, REVIEWER, SlackHarness
from tests.adapters.slack_standin import slash_command


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _text(payload: Any) -> str:
    assert isinstance(payload, dict), payload
    return unescape(str(payload["text"]))


def _link(text: str, path: str) -> str:
    found = re.search(r"https?://\S+" + re.escape(path) + r"\?\S+", text)
    assert found, text
    return found.group(0)


def _signer(slack: SlackHarness) -> PageLinks:
    alerts = slack.bot.alerts
    return PageLinks("", alerts.link_secret, alerts.link_ttl)


async def _page(slack: SlackHarness, path: str, **headers: str) -> tuple[int, str]:
    response = await slack.client.get(path, headers=headers)
    return response.status, await response.text()


async def test_history_carries_a_signed_link_to_the_target_s_history_page(
    slack: SlackHarness,
) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    status, payload = await slack.post(slash_command("history demo", user=ADMIN, response_url=""))
    assert status == 200
    link = _link(_text(payload), "/targets/demo/history")
    code, html = await _page(slack, _local(link))
    assert code == 200
    assert '<html lang="en">' in html and "<h1>History of demo — latest job succeeded</h1>" in html
    assert '<th scope="row"><a href="/jobs/1?' in html and "succeeded" in html
    # the shortcuts' targets: this history and the latest job, each signed for its own path
    body = re.search(r'<body data-history="([^"]*)" data-latest="([^"]*)"', html)
    assert body is not None
    history, latest = (unescape(v) for v in body.groups())
    assert urlsplit(history).path == "/targets/demo/history"
    assert (await slack.client.get(latest)).status == 200
    assert urlsplit(latest).path == "/jobs/1"
    # the Spoken summary's sentence is F2's for the latest job
    assert '<template id="spoken-text">Job #1 of demo succeeded just now' in html

    bent = _local(link).replace("/targets/demo/", "/targets/site-a/")
    code, html = await _page(slack, bent)
    assert code == 403 and "not valid or has expired" in html


async def test_a_french_link_opens_a_french_page_and_its_language_cannot_be_bent(
    slack: SlackHarness,
) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    now = slack.bot.clock.now()
    french = _signer(slack).history("demo", "fr", now)
    assert "lang=fr" in french
    code, html = await _page(slack, french, **{"Accept-Language": "en-US"})
    assert code == 200 and '<html lang="fr">' in html
    assert "Historique de demo — dernier job réussi" in html and "Aller au contenu" in html
    assert "Résumé parlé" in html and "Raccourcis clavier" in html
    # Every link on a French page is French, and signed as such.
    for href in re.findall(r'href="(/(?:jobs|targets)/[^"]+)"', html):
        query = parse_qs(urlsplit(unescape(href)).query)
        assert query["lang"] == ["fr"], href
    bent = french.replace("lang=fr", "lang=en")
    assert (await slack.client.get(bent)).status == 403
    odd = french.replace("lang=fr", "lang=de")
    assert (await slack.client.get(odd)).status == 403


async def test_the_history_page_lists_the_newest_jobs_past_one_page(slack: SlackHarness) -> None:
    now = slack.bot.clock.now()
    async with slack.bot.uow_factory() as uow:
        for i in range(HISTORY_PAGE_JOBS + 5):
            at = now + timedelta(seconds=i)
            job = await uow.jobs.add(NewJob("demo", Origin(OriginKind.SCHEDULE), None, "", at))
            job.transition(JobState.CANCELLED, at)  # one active job per target at a time
            await uow.jobs.save(job)
        await uow.commit()
    code, html = await _page(slack, _signer(slack).history("demo", "en", now))
    assert code == 200
    rows = re.findall(r'<th scope="row"><a href="/jobs/(\d+)\?', html)
    assert len(rows) == HISTORY_PAGE_JOBS
    assert rows[0] == str(HISTORY_PAGE_JOBS + 5) and rows[-1] == "6"  # newest first
    assert f"Only the newest {HISTORY_PAGE_JOBS} jobs are listed." in html
    assert "cancelled" in html


async def test_a_target_with_no_jobs_has_a_history_page_that_says_so(slack: SlackHarness) -> None:
    code, html = await _page(slack, _signer(slack).history("demo", "en", slack.bot.clock.now()))
    assert code == 200 and "demo has no jobs yet" in html
    assert '<table id="jobs">' not in html and 'data-latest=""' in html


async def test_submit_carries_the_review_page_with_the_draft_s_diff(slack: SlackHarness) -> None:
    drafted = '--cron "0 3 * * *" --tz Europe/Paris --keep 5 --exclude "*.log"'
    await slack.post(slash_command(f"schedule draft demo {drafted}", user=ADMIN, response_url=""))
    await slack.settle()
    status, _ = await slack.post(slash_command("schedule submit 1", user=ADMIN, response_url=""))
    assert status == 200
    # The review card is posted in the channel for everyone there (reviews where reviewers are).
    await slack.settle()
    cards = [
        unescape(str(posted.get("text", "")))
        for posted in slack.standin.called("chat.postMessage")
        if "/drafts/1/review" in str(posted.get("text", ""))
    ]
    assert cards, slack.standin.called("chat.postMessage")
    link = _link(cards[0], "/drafts/1/review")
    code, html = await _page(slack, _local(link))
    assert code == 200, html
    assert "What changes" in html and "no active schedule" in html
    diff = re.search(r'<table id="diff">(.*?)</table>', html, re.S)
    assert diff is not None
    rows = re.findall(r'<tr class="(changed|same)">', diff.group(1))
    assert rows == ["changed", "changed", "changed"]  # a first schedule changes everything
    assert "<ins><code>*.log</code></ins>" in html  # the exclusion it adds, as a word too
    assert "Exclusions added" in html and ">changed<" in html

    # Once a reviewer approved it, a second draft is compared with what is now active: the
    # unchanged rows say "unchanged" in words, the changed one shows both values.
    await slack.post(slash_command("schedule review 1 approve", user=REVIEWER, response_url=""))
    await slack.settle()
    again = '--cron "0 3 * * *" --tz Europe/Paris --keep 9 --exclude "*.log"'
    await slack.post(slash_command(f"schedule draft demo {again}", user=ADMIN, response_url=""))
    await slack.settle()
    code, html = await _page(slack, _signer(slack).review(2, "en", slack.bot.clock.now()))
    assert code == 200
    diff = re.search(r'<table id="diff">(.*?)</table>', html, re.S)
    assert diff is not None
    assert "no active schedule" not in html  # the first draft was activated by its approval
    assert re.findall(r'<tr class="(changed|same)">', diff.group(1)) == ["same", "changed", "same"]
    assert ">unchanged<" in html and "<del>keep 5</del>" in html


async def test_page_links_are_refused_when_bent_expired_or_unsigned(slack: SlackHarness) -> None:
    signer = _signer(slack)
    now = slack.bot.clock.now()
    good = signer.review(1, "en", now)
    assert (await slack.client.get(good)).status == 404  # signed, but no such draft
    for path in (
        review_path(1),
        history_path("demo"),
        good.replace("/drafts/1/", "/drafts/2/"),
        signer.review(1, "en", now - timedelta(days=30)),
        signer.history("demo", "en", now).replace("sig=", "sig=0"),
        "/targets/no%00pe/history?expires=99999999999&sig=x",
    ):
        code, html = await _page(slack, path)
        assert code == 403, path
        assert "not valid or has expired" in html
    # a target signed once and since removed from the configuration
    gone = signer.history("retired", "en", now)
    assert (await slack.client.get(gone)).status == 404


async def test_the_pages_own_files_are_served_and_nothing_else_is(slack: SlackHarness) -> None:
    for name, kind in (("pages.css", "text/css"), ("pages.js", "text/javascript")):
        response = await slack.client.get(f"/static/{name}")
        assert response.status == 200 and response.content_type == kind
        assert len(await response.read()) > 500
    for name in ("../pages.py", "%2e%2e%2fapp.py", "pages.css%00", "x" * 300, "base.html"):
        response = await slack.client.get(f"/static/{name}")
        assert response.status in (400, 404), name


async def test_a_job_page_link_in_a_summary_opens_the_job_page(slack: SlackHarness) -> None:
    await slack.post(slash_command("run demo", user=ADMIN, response_url=""))
    await slack.settle()
    status, payload = await slack.post(slash_command("summary #1", user=ADMIN, response_url=""))
    assert status == 200
    text = _text(payload)
    assert text.startswith("Job #1 of demo succeeded just now:")
    code, html = await _page(slack, _local(_link(text, "/jobs/1")))
    assert code == 200 and "Job #1 · demo — succeeded" in html
