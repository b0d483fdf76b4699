"""The scenarios every chat platform must play the same way (issues 6 and 7): a run from
command to completion, a draft approved by button and refused to its author and on a stale
version, a note from a job's thread landing on that job, an alert after a restart, and an
unverified request refused. Each runs on every platform in `conftest.PLATFORMS`; the outcomes
asserted here are the same for all of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.scenarios.chat import ALERTS, ALICE, CAROL, NINA, OPS, Chat, Seen
from tests.scenarios.conftest import PLATFORMS

DRAFT = 'schedule draft quick --cron "0 2 * * *" --tz UTC --keep 5'


async def test_a_run_goes_from_command_to_its_completion_message(chat: Chat) -> None:
    started = await chat.say(ALICE, "run quick")
    assert "#1" in started.text and "quick" in started.text
    assert "job.cancel" in started.actions  # a running job can be stopped from its message
    await chat.settle()
    finished = await chat.job_message(1)
    assert "succeeded" in finished.text and "Alice Admin" in finished.text
    assert "job.cancel" not in finished.actions and "job.note" in finished.actions
    assert any("succeeded" in said.text for said in await chat.job_thread(1))
    assert chat.rows("SELECT id, state FROM jobs") == [(1, "succeeded")]


async def _submitted_draft(chat: Chat) -> Seen:
    await chat.say(ALICE, DRAFT)
    review = await chat.say(ALICE, "schedule submit #1")
    assert {"draft.approve", "draft.reject", "draft.changes"} <= set(review.actions)
    return review


def _draft_version(chat: Chat) -> int:
    [(version,)] = chat.rows("SELECT version FROM drafts")
    return int(version)


async def test_a_reviewer_approves_a_draft_by_button_and_everyone_sees_it(chat: Chat) -> None:
    review = await _submitted_draft(chat)
    approved = await chat.press(CAROL, review, "draft.approve", "1", _draft_version(chat))
    assert not approved.private
    assert "Approuvé par Carol" in approved.text  # Carol reads French
    assert not {"draft.approve", "draft.reject"} & set(approved.actions)  # decided
    assert chat.rows("SELECT target, cron FROM schedules WHERE active") == [("quick", "0 2 * * *")]


async def test_the_author_of_a_draft_cannot_approve_it(chat: Chat) -> None:
    review = await _submitted_draft(chat)
    refused = await chat.press(ALICE, review, "draft.approve", "1", _draft_version(chat))
    assert refused.private
    assert "someone else must review it (four eyes)" in refused.text
    assert chat.rows("SELECT state FROM drafts") == [("submitted",)]
    assert chat.rows("SELECT count(*) FROM schedules WHERE active") == [(0,)]


async def test_a_button_drawn_for_an_older_version_of_the_draft_is_refused(chat: Chat) -> None:
    review = await _submitted_draft(chat)
    drawn_for = _draft_version(chat)
    await chat.say(ALICE, DRAFT.replace('"0 2', '"30 2'))  # the author edits the draft
    assert _draft_version(chat) == drawn_for + 1
    refused = await chat.press(CAROL, review, "draft.approve", "1", drawn_for)
    assert refused.private
    assert f"(version {drawn_for}, maintenant {drawn_for + 1})" in refused.text
    assert chat.rows("SELECT count(*) FROM schedules WHERE active") == [(0,)]


async def test_a_reply_in_a_jobs_thread_lands_on_that_job_and_is_echoed(chat: Chat) -> None:
    for _ in range(2):
        await chat.say(ALICE, "run quick")
        await chat.settle()
    await chat.reply_in_job_thread(CAROL, 1, "relaunched after host maintenance")
    [(job, author, text, link)] = chat.rows("SELECT job_id, author, text, link FROM annotations")
    assert (job, author, text) == (1, chat.principal(CAROL), "relaunched after host maintenance")
    assert re.match(chat.note_link, link), link  # back to the reply, on the platform
    echoes = [s for s in await chat.job_thread(1) if "relaunched" in s.text]
    assert len(echoes) == 1 and "Carol" in echoes[0].text
    assert not any("relaunched" in s.text for s in await chat.job_thread(2))


async def test_an_alert_reaches_a_subscribed_channel_after_a_restart(chat: Chat) -> None:
    subscribed = await chat.say(ALICE, "subscribe broken failed", channel=ALERTS)
    assert "receives job failed alerts for broken" in subscribed.text
    await chat.restart()  # the new process knows the channel only from the database
    await chat.say(ALICE, "run broken")
    await chat.settle()
    [alert] = await chat.posted_in(ALERTS)
    assert alert.text.startswith("Job #1 of broken failed")
    assert "refused by the NAS" in alert.text  # why, from the job's own words
    assert "job.retry" in alert.actions


@pytest.mark.parametrize(
    ("platform", "forgery"),
    [(platform, forgery) for platform, (_, forged) in PLATFORMS.items() for forgery in forged],
)
async def test_an_unverified_request_gets_401_and_changes_nothing(
    tmp_path: Path, platform: str, forgery: str
) -> None:
    open_chat, _ = PLATFORMS[platform]
    async with open_chat(tmp_path) as chat:
        assert await chat.forge(forgery, "run quick") == 401
        await chat.settle()
        for table in ("jobs", "audit_log", "inbound_events", "conversation_references"):
            assert chat.rows(f"SELECT count(*) FROM {table}") == [(0,)], table
        assert not chat.sent_anything()


# --- audit exports (issue 15) ---
_EXPORT_LINK = re.compile(
    r"https?://[^\s\"'<>]+/exports/[A-Za-z0-9_-]{32}\?expires=\d+&sig=[0-9a-f]{64}"
)


async def test_an_audit_export_arrives_as_a_file_and_a_signed_link_that_downloads_it(
    chat: Chat,
) -> None:
    for _ in range(2):
        await chat.say(ALICE, "run quick")
        await chat.settle()
    started = await chat.say(ALICE, "audit --format csv", channel=ALERTS)
    assert "Building the export of jobs" in started.text
    await chat.settle()

    ready = await chat.first_post_now(ALERTS)
    assert "Ready" in ready.text and "2 jobs" in ready.text
    [link, *_] = _EXPORT_LINK.findall(ready.extra["raw"].replace("&amp;", "&"))
    status, headers, body = await chat.download(link)
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert 'filename="exportbot-jobs-' in headers["Content-Disposition"]
    lines = body.decode().splitlines()
    assert lines[0].startswith("id,target,state") and len(lines) == 3
    assert [line.split(",")[:3] for line in lines[1:]] == [
        ["1", "quick", "succeeded"],
        ["2", "quick", "succeeded"],
    ]
    posted = await chat.file_in(ALERTS)
    if chat.platform == "teams":
        assert posted is None  # Teams gets the link on the card only
    else:
        assert posted is not None
        name, data = posted
        assert name.startswith("exportbot-jobs-") and name.endswith(".csv")
        assert data == body  # the file in the conversation is the one the link serves
    await chat.settle()
    assert chat.rows(
        "SELECT action, outcome FROM audit_log WHERE action LIKE 'audit.%' ORDER BY id"
    ) == [("audit.export", "ok"), ("audit.download", "ok")]

    bent = re.sub(r"sig=([0-9a-f])", lambda m: "sig=" + ("0" if m[1] != "0" else "1"), link)
    assert (await chat.download(bent))[0] == 403
    other = re.sub(r"/exports/[A-Za-z0-9_-]{32}", "/exports/" + "A" * 32, link)
    assert (await chat.download(other))[0] == 403


async def test_audit_is_refused_to_someone_without_manage_exports_in_their_language(
    chat: Chat,
) -> None:
    refused = await chat.say(CAROL, "audit --what actions")
    assert "Il vous faut la capacité « gestion des exports » pour cela." in refused.text
    await chat.settle()
    assert chat.rows("SELECT actor, outcome FROM audit_log WHERE action = 'audit'") == [
        (chat.principal(CAROL), "refused")
    ]
    assert await chat.file_in(ALERTS) is None


async def test_audit_of_the_action_log_holds_who_did_what_where(chat: Chat) -> None:
    await chat.say(ALICE, "run quick")
    await chat.settle()
    await chat.say(ALICE, "audit --what actions --format ndjson", channel=ALERTS)
    await chat.settle()

    ready = await chat.first_post_now(ALERTS)
    [link, *_] = _EXPORT_LINK.findall(ready.extra["raw"].replace("&amp;", "&"))
    status, headers, body = await chat.download(link)
    assert status == 200 and headers["Content-Type"] == "application/x-ndjson"
    records = [json.loads(line) for line in body.decode().splitlines()]
    runs = [r for r in records if r["command"] == "run"]
    assert len(runs) == 1
    [run] = runs
    assert run["actor"] == chat.principal(ALICE) and run["platform"] == chat.platform
    assert run["outcome"] == "ok" and run["target"] == "quick" and run["channel"]


# --- exclusions (D2) ---
async def test_exclude_previews_each_preset_and_its_button_opens_a_draft_with_the_pattern(
    chat: Chat,
) -> None:
    await chat.say(ALICE, 'schedule draft site --cron "0 3 * * *" --tz UTC')
    started = await chat.say(ALICE, "exclude site", channel=ALERTS)
    assert "Scanning site's files to preview each preset" in started.text
    await chat.settle()

    preview = await chat.first_post_now(ALERTS)
    assert "Exclusions for site" in preview.text and "Scanned" in preview.text
    assert "node-modules" in preview.text and "would leave out 4 files, 333 B" in preview.text
    assert "Files looked at, beyond what is already excluded: 21 (" in preview.text
    raw = json.dumps(preview.extra["raw"])
    for preset in ("node-modules", "caches", "cachedir-tag", "large-media", "nobackup"):
        assert f"exclude.add.{preset}" in raw, preset
    added = await chat.press(ALICE, preview, "exclude.add.node-modules", "site", 0)
    assert "Added `node_modules/` to draft #1 of site's schedule." in added.text
    assert "schedule submit #1" in added.text
    await chat.settle()
    assert chat.rows("SELECT id, version, exclude FROM drafts") == [(1, 2, '["node_modules/"]')]
    assert chat.rows("SELECT outcome FROM audit_log WHERE action = 'draft.edited'") == [("ok",)]

    again = await chat.say(ALICE, "exclude site add 1")
    assert "already excluded from site (in your draft #1)" in again.text
    refused = await chat.say(CAROL, "exclude site add logs")
    assert "capacité « rédiger un brouillon » sur site" in refused.text
    await chat.settle()
    assert chat.rows("SELECT version, exclude FROM drafts") == [(2, '["node_modules/"]')]


async def test_a_french_reader_gets_french_spacing_and_people_s_words_as_typed(chat: Chat) -> None:
    """Issue 17: U+202F before `: ; ? !` in French on every platform, English untouched."""
    refused = await chat.say(CAROL, "status no-such")
    assert "Il n'y a pas de cible « no-such ». Cibles\u202f: quick, broken, site." in refused.text
    english = await chat.say(ALICE, "status no-such")
    assert "Targets: quick, broken, site." in english.text and "\u202f" not in english.text


# --- reviews where reviewers are (issue 17) ---


async def test_a_reviewer_beside_the_author_sees_the_card_and_approves_it_there(
    chat: Chat,
) -> None:
    await chat.say(ALICE, DRAFT)
    review = await chat.say(ALICE, "schedule submit #1")  # in a channel with no subscription
    assert not review.private  # the whole conversation sees it, Carol too
    assert {"draft.approve", "draft.reject", "draft.changes"} <= set(review.actions)
    assert "Sent for review here." in review.text
    assert "Nobody but you" not in review.text
    approved = await chat.press(CAROL, review, "draft.approve", "1", _draft_version(chat))
    assert not approved.private and "Approuvé par Carol" in approved.text
    assert chat.rows("SELECT target, cron FROM schedules WHERE active") == [("quick", "0 2 * * *")]
    await chat.settle()
    assert chat.rows("SELECT count(*) FROM deliveries") == [(0,)]  # nobody subscribed


async def test_a_subscribed_channel_gets_the_card_too_but_the_submitting_one_only_once(
    chat: Chat,
) -> None:
    await chat.say(ALICE, "subscribe quick review", channel=ALERTS)
    await chat.say(ALICE, "subscribe quick review")  # the channel the draft is submitted in
    await chat.say(ALICE, DRAFT)
    here = await chat.say(ALICE, "schedule submit #1")
    assert not here.private and "draft.approve" in here.actions
    assert "Sent for review here and to 1 channel subscribed to review alerts." in here.text
    await chat.settle()
    [card] = await chat.posted_in(ALERTS)
    assert "draft.approve" in card.actions and "quick" in card.text
    assert chat.rows("SELECT count(*) FROM deliveries") == [(1,)]  # not again in this channel
    version = _draft_version(chat)
    approved = await chat.press(CAROL, card, "draft.approve", "1", version)
    assert not approved.private and "Approuvé par Carol" in approved.text
    assert chat.rows("SELECT state FROM drafts") == [("approved",)]
    # The copy where it was submitted is redrawn: decided, its buttons gone.
    redrawn = await chat.redrawn_draft_card(1, OPS)
    assert "approved and active" in redrawn.text and "Carol" in redrawn.text
    assert not {"draft.approve", "draft.reject", "draft.changes"} & set(redrawn.actions)
    # A press on a copy drawn before the decision acts no more, and says so privately.
    again = await chat.press(CAROL, here, "draft.approve", "1", version)
    assert again.private
    assert chat.rows("SELECT count(*) FROM schedules") == [(1,)]


async def test_approved_where_it_was_submitted_the_subscribed_channels_copy_is_redrawn(
    chat: Chat,
) -> None:
    await chat.say(ALICE, "subscribe quick review", channel=ALERTS)
    await chat.say(ALICE, DRAFT)
    here = await chat.say(ALICE, "schedule submit #1")
    await chat.settle()
    [card] = await chat.posted_in(ALERTS)
    assert "draft.approve" in card.actions
    approved = await chat.press(CAROL, here, "draft.approve", "1", _draft_version(chat))
    assert not approved.private and "Approuvé par Carol" in approved.text
    redrawn = await chat.redrawn_draft_card(1, ALERTS)
    assert "approved and active" in redrawn.text
    assert not {"draft.approve", "draft.reject", "draft.changes"} & set(redrawn.actions)


async def test_the_author_is_told_plainly_when_nobody_else_may_approve(chat: Chat) -> None:
    chat.rows("DELETE FROM grants WHERE role = 'reviewer'")  # Carol was the only reviewer
    await chat.say(ALICE, DRAFT)
    review = await chat.say(ALICE, "schedule submit #1")
    assert "Nobody but you may approve drafts of quick, so this one cannot be approved" in (
        review.text
    )
    assert "grant someone the reviewer role with" in review.text
    assert chat.rows("SELECT state FROM drafts") == [("submitted",)]


async def test_an_admin_names_a_reviewer_by_mention_and_they_approve_the_stuck_draft(
    chat: Chat,
) -> None:
    chat.rows("DELETE FROM grants WHERE role = 'reviewer'")  # Carol has no role yet
    await chat.say(ALICE, DRAFT)
    review = await chat.say(ALICE, "schedule submit #1")
    assert "Nobody but you may approve drafts of quick" in review.text
    refused = await chat.press(CAROL, review, "draft.approve", "1", _draft_version(chat))
    assert refused.private
    granted = await chat.say(ALICE, f"role grant {chat.mention(CAROL)} reviewer")
    assert f"{chat.principal(CAROL)} is now reviewer for all targets." in granted.text
    assert (chat.principal(CAROL), "reviewer") in chat.rows("SELECT principal, role FROM grants")
    approved = await chat.press(CAROL, review, "draft.approve", "1", _draft_version(chat))
    assert not approved.private and "Approuvé par Carol" in approved.text
    assert chat.rows("SELECT state FROM drafts") == [("approved",)]


# -- F2 and F3: the spoken summary, and the pages the replies link ---------------------------

_PAGE_LINK = re.compile(
    r"https?://[^\s\"'<>|)\]]+/(?:jobs/\d+|targets/[\w.-]+/history)\?[^\s\"'<>|)\]]+"
)


def _page_links(seen: Seen) -> list[str]:
    """The signed page links a reply carries, wherever its platform puts them."""
    raw = json.dumps(seen.extra, default=str) + seen.text
    return [link.replace("&amp;", "&").replace("\\u0026", "&") for link in _PAGE_LINK.findall(raw)]


async def test_summary_says_a_failed_job_s_state_and_next_step_in_one_sentence(
    chat: Chat,
) -> None:
    await chat.say(ALICE, "run broken")
    await chat.settle()
    said = await chat.say(ALICE, "summary #1")
    assert said.private or chat.platform == "teams"  # Teams has no message for one person
    assert (
        "Job #1 of broken failed just now: its command ended with an error; "
        "read the log tail, fix the cause, then retry." in said.text
    )
    french = await chat.say(CAROL, "summary #1")
    assert (
        "Le job #1 de broken a échoué à l'instant\u202f: sa commande s'est terminée en erreur"
        in (french.text)
    )
    [link, *_] = _page_links(said)
    status, headers, body = await chat.download(link)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "Job #1 of broken failed just now" in body.decode()  # the page's Spoken summary
    [french_link, *_] = _page_links(french)
    status, _, body = await chat.download(french_link)
    assert status == 200 and '<html lang="fr">' in body.decode()
    missing = await chat.say(ALICE, "summary #42")
    assert "There is no job #42." in missing.text


async def test_history_links_the_target_s_history_page(chat: Chat) -> None:
    await chat.say(ALICE, "run quick")
    await chat.settle()
    listed = await chat.say(ALICE, "history quick")
    assert "#1 quick — succeeded" in listed.text
    links = [link for link in _page_links(listed) if "/targets/quick/history" in link]
    assert links, listed
    status, _, body = await chat.download(links[0])
    assert status == 200 and "History of quick — latest job succeeded" in body.decode()


# --- guided tour (D1) ---
TOUR_TITLES = (
    "Tour: what a target is",
    "Tour: run and status",
    "Tour: drafts and review",
    "Tour: notes from threads",
)


def _tour_state(chat: Chat) -> str:
    [(state,)] = chat.rows(f"SELECT state FROM tours WHERE principal = '{chat.principal(NINA)}'")
    return str(state)


async def _offered(chat: Chat) -> Seen:
    """Nina, new, types her first command: answered, then offered the tour, once."""
    answer = await chat.say(NINA, "help")
    assert "exportbot commands" in answer.text  # answered normally first
    assert "New to exportbot?" not in answer.text
    [offer] = await chat.follow_ups(NINA)
    assert "New to exportbot?" in offer.text and "4-step tour" in offer.text
    assert offer.actions == ("tour.next", "tour.skip")
    return offer


async def test_a_newcomer_is_offered_the_tour_and_walks_its_four_steps(chat: Chat) -> None:
    seen = await _offered(chat)
    for step, title in enumerate(TOUR_TITLES, start=1):
        seen = await chat.press(NINA, seen, "tour.next", str(step), 0)
        assert title in seen.text and f"step {step} of 4" in seen.text, seen.text
        if step == 2:
            assert "run demo" in seen.text and "status demo" in seen.text
    assert seen.actions == ("tour.done",)
    done = await chat.press(NINA, seen, "tour.done", "4", 0)
    assert "Tour finished" in done.text
    assert _tour_state(chat) == "finished"
    await chat.say(NINA, "help")
    assert await chat.follow_ups(NINA) == []


async def test_a_skipped_tour_is_never_offered_again_and_tour_replays_it(chat: Chat) -> None:
    offer = await _offered(chat)
    skipped = await chat.press(NINA, offer, "tour.skip", "1", 0)
    assert "Tour skipped" in skipped.text
    await chat.restart()  # remembered in the database, not in the process
    answer = await chat.say(NINA, "help")
    assert "exportbot commands" in answer.text
    assert await chat.follow_ups(NINA) == []
    replay = await chat.say(NINA, "tour")
    assert "Tour: what a target is" in replay.text and "step 1 of 4" in replay.text
    assert replay.actions == ("tour.next", "tour.skip")
    assert await chat.follow_ups(NINA) == []
    assert _tour_state(chat) == "skipped"


async def test_people_who_have_seen_the_tour_are_never_offered_it(chat: Chat) -> None:
    await chat.say(ALICE, "help")
    assert await chat.follow_ups(ALICE) == []


async def test_a_forged_tour_step_gets_a_clear_private_reply(chat: Chat) -> None:
    offer = await _offered(chat)
    refused = await chat.press(NINA, offer, "tour.next", "7", 0)
    assert refused.private
    assert "This button no longer does anything." in refused.text
    assert _tour_state(chat) == "offered"
