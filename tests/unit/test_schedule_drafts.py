"""Schedule drafts and the four-eyes review (B5), through the service, on fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.capabilities import Role
from core.domain.events import EventKind
from core.domain.model import CONFIG_GRANTOR, Actor, Grant, Outcome, Principal
from core.domain.schedules import ArchiveRecord, DraftState
from tests.fakes import FakeStore
from tests.unit.conftest import RecordingJobControl, console, press

_NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAILY = 'schedule draft demo --cron "0 2 * * *" --tz Europe/Paris --keep 5'


async def test_a_draft_shows_its_schedule_in_words_and_its_next_runs(
    service: CommandService,
) -> None:
    reply = await service.execute_text(DAILY, console("alice"))
    text = reply.text
    assert "Schedule draft #1 · demo · version 1 — open" in text
    assert "Schedule: 0 2 * * * — At 02:00 (Europe/Paris)" in text
    # 2026-03-02 10:00 UTC now: the next three 02:00 in Paris, in winter time (CET).
    assert "Next runs: 2026-03-03 02:00 CET, 2026-03-04 02:00 CET, 2026-03-05 02:00 CET" in text
    assert "Retention: keep 5" in text
    assert "demo has no schedule yet" in text
    assert "schedule submit #1" in text


async def test_next_runs_cross_daylight_saving_time_correctly(
    service: CommandService, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=26))  # 2026-03-28, the night before summer time
    reply = await service.execute_text(
        'schedule draft demo --cron "30 2 * * *" --tz Europe/Paris', console("alice")
    )
    # 02:30 does not exist on 2026-03-29 in Paris: that run happens at 03:00 CEST, once.
    assert "Next runs: 2026-03-29 03:00 CEST, 2026-03-30 02:30 CEST, 2026-03-31 02:30 CEST" in (
        reply.text
    )


def test_the_autumn_change_runs_a_0230_job_once() -> None:
    from datetime import UTC, datetime

    from core.domain.cron import next_runs

    runs = next_runs("30 2 * * *", "Europe/Paris", datetime(2026, 10, 24, 10, tzinfo=UTC))
    assert [r.strftime("%m-%d %H:%M %Z") for r in runs] == [
        "10-25 02:30 CEST",
        "10-26 02:30 CET",
        "10-27 02:30 CET",
    ]


async def test_the_author_cannot_approve_their_own_draft_and_a_reviewer_activates_it(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text(DAILY, console("alice"))
    await service.execute_text("schedule submit #1", console("alice"))
    own = await service.execute_text("schedule review #1 approve", console("alice"))
    assert "You wrote draft #1; someone else must review it (four eyes)." in own.text
    operator = await service.execute_text("schedule review #1 approve", console("bob"))
    assert "“approve” capability on demo" in operator.text
    approved = await service.execute_text("schedule review #1 approve", console("carol"))
    assert "approved and active" in approved.text
    assert "Approved by carol at 2026-03-02 10:00:00 UTC" in approved.text
    shown = await service.execute_text("schedule show demo", console("bob"))
    assert "Schedule · demo — active" in shown.text
    assert "Version: 1" in shown.text and "Next runs: 2026-03-03 02:00 CET" in shown.text
    refused = [(e.actor, e.action) for e in store.state.audit if e.outcome is Outcome.REFUSED]
    assert refused == [("console:alice", "schedule review"), ("console:bob", "schedule review")]
    actions = [e.action for e in store.state.audit if e.outcome is Outcome.OK]
    assert "schedule.activated" in actions and "draft.approve" in actions


async def test_editing_a_draft_voids_earlier_approvals_and_old_versions_are_refused(
    service: CommandService, store: FakeStore
) -> None:
    site = 'schedule draft site-a --cron "0 3 * * *" --tz UTC'
    await service.execute_text(site, console("alice"))
    await service.execute_text("schedule submit #1", console("alice"))
    first = await service.execute_text("schedule review #1 approve --version 1", console("carol"))
    assert "Approvals: 1 of 2 (carol)" in first.text
    edited = await service.execute_text(site.replace("0 3", "30 3"), console("alice"))
    assert "version 2 — awaiting review" in edited.text
    assert "Approvals: 0 of 2" in edited.text
    assert "approvals of earlier versions no longer count" in edited.text
    stale = await service.execute_text("schedule review #1 approve --version 1", console("erin"))
    assert "changed since you saw it (version 1, now 2)" in stale.text
    await service.execute_text("schedule review #1 approve --version 2", console("erin"))
    assert store.state.schedules == []  # one approval of two
    done = await service.execute_text("schedule review #1 approve", console("carol"))
    assert "approved and active" in done.text
    assert [(s.version, s.spec.cron, on) for s, on in store.state.schedules] == [
        (1, "30 3 * * *", True)
    ]


async def test_a_new_activation_replaces_the_old_schedule(
    service: CommandService, store: FakeStore
) -> None:
    for cron_expression in ("0 2 * * *", "0 4 * * *"):
        await service.execute_text(
            f'schedule draft demo --cron "{cron_expression}" --tz UTC', console("alice")
        )
        draft = max(store.state.drafts)
        await service.execute_text(f"schedule submit #{draft}", console("alice"))
        await service.execute_text(f"schedule review #{draft} approve", console("carol"))
    assert [(s.version, on) for s, on in store.state.schedules] == [(1, False), (2, True)]
    second = await service.execute_text(
        'schedule draft demo --cron "0 4 * * *" --tz UTC --keep 3', console("alice")
    )
    assert "0 4 * * * — At 04:00 (UTC) (unchanged)" in second.text
    assert "Retention: keep all → keep 3" in second.text


async def test_reject_and_request_changes_close_or_return_the_draft(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text(DAILY, console("alice"))
    await service.execute_text("schedule submit 1", console("alice"))
    back = await service.execute_text('schedule review 1 changes "keep 7, not 5"', console("carol"))
    assert "changes requested" in back.text
    assert "Changes requested by carol on version 1: keep 7, not 5" in back.text
    not_yet = await service.execute_text("schedule review 1 approve", console("erin"))
    assert "is not awaiting review" in not_yet.text
    await service.execute_text(DAILY.replace("5", "7"), console("alice"))
    await service.execute_text("schedule submit 1", console("alice"))
    rejected = await service.execute_text("schedule review 1 reject too often", console("erin"))
    assert "— rejected" in rejected.text
    closed = await service.execute_text("schedule submit 1", console("alice"))
    assert "Draft #1 is closed (rejected)" in closed.text
    kinds = [(e.kind, e.payload.get("verdict")) for e in store.state.outbox]
    assert kinds == [
        (EventKind.DRAFT_SUBMITTED, None),
        (EventKind.DRAFT_DECIDED, "changes"),
        (EventKind.DRAFT_SUBMITTED, None),
        (EventKind.DRAFT_DECIDED, "reject"),
    ]


async def test_drafts_expire_and_say_so(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    await service.execute_text(DAILY, console("alice"))
    await service.execute_text("schedule submit 1", console("alice"))
    listed = await service.execute_text("schedule drafts", console("carol"))
    assert "draft #1 · demo · v1 — awaiting review · 0 2 * * * (Europe/Paris) · by alice" in (
        listed.text
    )
    clock.advance(timedelta(days=8))
    assert (
        "No open draft." in (await service.execute_text("schedule drafts", console("carol"))).text
    )
    late = await service.execute_text("schedule review 1 approve", console("carol"))
    assert "Draft #1 is closed (expired)" in late.text
    assert store.state.drafts[1].state is DraftState.EXPIRED
    assert store.state.outbox[-1].kind is EventKind.DRAFT_EXPIRED
    assert any(
        e.action == "draft.expired" and e.actor == "system:exportbot" for e in store.state.audit
    )


async def test_the_prune_preview_names_the_archives_the_new_retention_would_delete(
    service: CommandService, store: FakeStore, clock: FrozenClock
) -> None:
    for index in range(4):
        store.state.archives.append(
            ArchiveRecord(
                index + 1,
                index + 1,
                "demo",
                f"/a/demo-job{index + 1}.tar.gz",
                1_000_000,
                clock.now() - timedelta(days=4 - index),
            )
        )
    reply = await service.execute_text(
        'schedule draft demo --cron "0 2 * * *" --tz UTC --keep 2', console("alice")
    )
    assert (
        "Prune preview: 2 archives (2.0 MB) would be deleted: demo-job1.tar.gz, demo-job2.tar.gz"
    ) in reply.text
    by_days = await service.execute_text(
        'schedule draft demo --cron "0 2 * * *" --tz UTC --keep-days 1', console("alice")
    )
    assert "3 archives (3.0 MB)" in by_days.text  # never the newest


async def test_bad_cron_and_time_zone_are_named(service: CommandService) -> None:
    cron_reply = await service.execute_text(
        'schedule draft demo --cron "61 2 * * *" --tz UTC', console("alice")
    )
    assert "“61 2 * * *” is not a cron expression (Bad minute)" in cron_reply.text
    unquoted = await service.execute_text(
        "schedule draft demo --cron 0 2 * * * --tz UTC", console("alice")
    )
    assert "Unexpected extra word" in unquoted.text and "Usage: schedule draft" in unquoted.text
    zone_reply = await service.execute_text(
        'schedule draft demo --cron "0 2 * * *" --tz Mars/Olympus', console("alice")
    )
    assert "“Mars/Olympus” is not a time zone" in zone_reply.text


async def test_review_buttons_carry_the_draft_and_its_version(service: CommandService) -> None:
    await service.execute_text(DAILY, console("alice"))
    reply = await service.execute_text("schedule submit 1", console("alice"))
    actions = {(a.name, a.object_id, a.version, a.capability.value) for a in reply.actions}
    assert actions == {
        ("draft.approve", "1", 1, "approve"),
        ("draft.reject", "1", 1, "approve"),
        ("draft.changes", "1", 1, "approve"),
    }
    assert all(a.accessibility_label for a in reply.actions)
    assert reply.comment_label.startswith("Comment")  # where a card can take one


async def test_a_press_carries_the_comment_typed_beside_the_buttons(
    service: CommandService,
) -> None:
    await service.execute_text(DAILY, console("alice"))
    await service.execute_text("schedule submit 1", console("alice"))
    long = await press(service, "draft.reject", "1:1", console("carol"), comment="x" * 501)
    assert long is not None and long.ephemeral
    assert "at most 500 characters; this one has 501" in long.text
    rejected = await press(
        service, "draft.reject", "1:1", console("carol"), comment=" runs during the backup window "
    )
    assert rejected is not None and "— rejected" in rejected.text
    assert "runs during the backup window" in rejected.text
    assert not rejected.comment_label  # decided: nothing left to comment on


async def test_only_managers_see_pending_events(service: CommandService) -> None:
    await service.execute_text(DAILY, console("alice"))
    await service.execute_text("schedule submit 1", console("alice"))
    pending = await service.execute_text("alerts pending", console("alice"))
    assert "draft.submitted · demo" in pending.text
    refused = await service.execute_text("alerts pending", console("carol"))
    assert "“manage exports” capability" in refused.text


# --- reviews where reviewers are (issue 17) ---


def _slack(user: str, channel: str) -> Actor:
    return Actor(Principal("slack", "T1", user), user, "en", channel=channel)


async def test_a_submitted_draft_is_a_card_for_the_whole_conversation_that_says_where_it_went(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text(DAILY, console("alice"))
    submitted = await service.execute_text("schedule submit #1", console("alice"))
    assert submitted.shared and not submitted.ephemeral
    assert {"draft.approve", "draft.reject", "draft.changes"} <= {a.name for a in submitted.actions}
    assert submitted.footer.splitlines()[0] == "Sent for review here."
    assert "Nobody but you" not in submitted.footer  # carol and erin may approve
    [event] = [e for e in store.state.outbox if e.kind is EventKind.DRAFT_SUBMITTED]
    assert event.payload["shown_in"] == "console::console"


async def test_the_reply_counts_the_other_channels_subscribed_to_review_and_not_this_one(
    service: CommandService, store: FakeStore
) -> None:
    alice = Principal("slack", "T1", "UA")
    store.state.grants.append(Grant(alice, Role.ADMIN, None, CONFIG_GRANTOR, _NOW))
    store.state.grants.append(
        Grant(Principal("slack", "T1", "UC"), Role.REVIEWER, None, CONFIG_GRANTOR, _NOW)
    )
    for channel in ("CREVIEW", "COPS", "CMORE"):
        said = await service.execute_text("subscribe demo review", _slack("UA", channel))
        assert "receives" in said.text, said.text
    await service.execute_text("subscribe demo failed", _slack("UA", "CFAILED"))
    await service.execute_text(DAILY, _slack("UA", "COPS"))
    submitted = await service.execute_text("schedule submit #1", _slack("UA", "COPS"))
    assert submitted.footer.splitlines()[0] == (
        "Sent for review here and to 2 channels subscribed to review alerts."
    )
    [event] = [e for e in store.state.outbox if e.kind is EventKind.DRAFT_SUBMITTED]
    assert event.payload["shown_in"] == "slack:T1:COPS"


async def test_the_author_hears_plainly_when_nobody_else_may_approve(
    service: CommandService, store: FakeStore
) -> None:
    store.state.grants = [
        g for g in store.state.grants if g.role not in (Role.REVIEWER, Role.ADMIN)
    ]
    alice = Principal("console", "", "alice")
    store.state.grants.append(Grant(alice, Role.ADMIN, None, CONFIG_GRANTOR, _NOW))
    # A reviewer of another target cannot approve drafts of demo.
    carol = Principal("console", "", "carol")
    store.state.grants.append(Grant(carol, Role.REVIEWER, "site-a", CONFIG_GRANTOR, _NOW))
    await service.execute_text(DAILY, console("alice"))
    submitted = await service.execute_text("schedule submit #1", console("alice"))
    assert (
        "Nobody but you may approve drafts of demo, so this one cannot be approved (four eyes): "
        "grant someone the reviewer role with role grant <person> reviewer"
    ) in submitted.footer
    assert [e.payload["draft"] for e in store.state.outbox] == [1]  # submitted all the same


async def test_the_french_warning_says_the_same_thing(
    service: CommandService, store: FakeStore
) -> None:
    store.state.grants = [g for g in store.state.grants if g.principal.user_id == "alice"]
    await service.execute_text(DAILY, console("alice"))
    submitted = await service.execute_text("schedule submit #1", console("alice", "fr"))
    assert (
        "Personne d'autre que vous ne peut approuver les brouillons de demo, celui-ci ne peut "
        "donc pas être approuvé (quatre yeux)"
    ) in submitted.footer


async def test_submitted_from_a_personal_chat_the_card_is_not_said_to_be_seen_there(
    service: CommandService, store: FakeStore
) -> None:
    alice = Principal("slack", "T1", "UA")
    store.state.grants.append(Grant(alice, Role.ADMIN, None, CONFIG_GRANTOR, _NOW))
    store.state.grants.append(
        Grant(Principal("slack", "T1", "UC"), Role.REVIEWER, None, CONFIG_GRANTOR, _NOW)
    )
    await service.execute_text("subscribe demo review", _slack("UA", "CREVIEW"))
    own_chat = Actor(alice, "UA", "en", channel="D1", direct=True)
    await service.execute_text(DAILY, own_chat)
    submitted = await service.execute_text("schedule submit #1", own_chat)
    assert submitted.footer.splitlines()[0] == (
        "Sent for review to 1 channel subscribed to review alerts."
    )
    [event] = [e for e in store.state.outbox if e.kind is EventKind.DRAFT_SUBMITTED]
    assert "shown_in" not in event.payload


async def test_with_no_channel_and_no_subscription_the_author_learns_where_reviewers_look(
    service: CommandService,
) -> None:
    alice = Actor(Principal("console", "", "alice"), "alice", "en", channel="")
    await service.execute_text(DAILY, alice)
    submitted = await service.execute_text("schedule submit #1", alice)
    assert submitted.footer.splitlines()[0] == (
        "Submitted for review. No channel subscribes to its review alerts: reviewers find it "
        "with schedule drafts."
    )


async def test_the_warning_names_the_command_that_grants_roles_on_each_platform(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl
) -> None:
    from bot.bootstrap import PLATFORMS
    from tests.unit.conftest import TARGETS

    service = CommandService(
        store.uow, TARGETS, clock, jobs, platforms=PLATFORMS, workspaces={"discord:G1"}
    )
    alice = Principal("discord", "G1", "1")
    store.state.grants = [Grant(alice, Role.ADMIN, None, CONFIG_GRANTOR, _NOW)]
    actor = Actor(alice, "Alice", "en", channel="C1")
    await service.execute_text(DAILY, actor, prefix="/export ")
    submitted = await service.execute_text("schedule submit #1", actor, prefix="/export ")
    assert "grant someone the reviewer role with /export-admin role grant" in submitted.footer
    assert "A reviewer answers with the buttons or /export schedule review #1" in (submitted.footer)
