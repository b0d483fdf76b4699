"""The handlers through `CommandService`, on in-memory fakes."""

from __future__ import annotations

import pytest

from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.model import Annotation, JobState, Outcome
from tests import fakes
from tests.fakes import FakeAnnotations, FakeStore
from tests.unit.conftest import RecordingJobControl, console, slack


async def test_an_operator_runs_a_job_that_is_queued_and_launched_after_commit(
    service: CommandService, store: FakeStore, jobs: RecordingJobControl
) -> None:
    reply = await service.execute_text("run demo", console("bob"))
    assert "Job #1 · demo started — queued" in reply.text
    assert jobs.launched == [1]
    job = store.state.jobs[1]
    assert job.state is JobState.QUEUED
    assert job.requester is not None and job.requester.key == "console:bob"
    assert job.origin.platform == "console" and job.origin.channel == "console"
    actions = [(e.action, e.outcome) for e in store.state.audit]
    assert ("job.queued", Outcome.OK) in actions and ("run", Outcome.OK) in actions


async def test_support_can_annotate_but_not_run(
    service: CommandService, store: FakeStore, jobs: RecordingJobControl
) -> None:
    await service.execute_text("run demo", console("bob"))
    refused = await service.execute_text("run demo", console("dave"))
    assert "Not allowed" in refused.text
    assert "“run” capability on demo" in refused.text
    noted = await service.execute_text(
        'annotate #1 --kind relaunch "after maintenance"', console("dave")
    )
    assert "Note added to job #1" in noted.text
    status = await service.execute_text("status #1", console("dave"))
    assert "[relaunch] after maintenance — dave" in status.text
    refusal = [e for e in store.state.audit if e.outcome is Outcome.REFUSED]
    assert [(e.actor, e.action) for e in refusal] == [("console:dave", "run")]
    assert "capability" in refusal[0].detail


async def test_a_user_with_no_role_is_refused_with_the_missing_capability(
    service: CommandService, store: FakeStore
) -> None:
    reply = await service.execute_text("status", console("mallory"))
    assert "“view” capability" in reply.text
    assert "help" in reply.text  # the help line
    assert store.state.audit[-1].outcome is Outcome.REFUSED


async def test_an_operator_cannot_grant_roles(service: CommandService, store: FakeStore) -> None:
    reply = await service.execute_text("role grant eve admin", console("bob"))
    assert "“manage roles” capability" in reply.text
    assert len(store.state.grants) == 5


async def test_an_admin_grants_a_scoped_role_that_works_only_on_that_target(
    service: CommandService, jobs: RecordingJobControl
) -> None:
    granted = await service.execute_text(
        "role grant eve operator --target site-a", console("alice")
    )
    assert "console:eve is now operator for site-a" in granted.text
    assert "started" in (await service.execute_text("run site-a", console("eve"))).text
    refused = await service.execute_text("run demo", console("eve"))
    assert "“run” capability on demo" in refused.text
    assert jobs.launched == [1]


async def test_the_last_admin_cannot_be_removed(service: CommandService, store: FakeStore) -> None:
    await service.execute_text("role grant eve admin", console("alice"))
    reply = await service.execute_text("role revoke alice admin", console("eve"))
    assert "comes from the configuration" in reply.text
    store.state.grants = [g for g in store.state.grants if g.principal.user_id != "alice"]
    reply = await service.execute_text("role revoke eve admin", console("eve"))
    assert "last admin" in reply.text
    assert any(g.principal.user_id == "eve" for g in store.state.grants)


async def test_an_admin_of_a_workspace_not_served_does_not_count_as_remaining(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("role grant eve admin", console("alice"))
    await service.execute_text("role grant slack:T9:U9 admin", console("alice"))  # T9: not served
    store.state.grants = [g for g in store.state.grants if g.principal.user_id != "alice"]
    reply = await service.execute_text("role revoke eve admin", console("eve"))
    assert "last admin" in reply.text
    assert any(g.principal.user_id == "eve" for g in store.state.grants)
    await service.execute_text("role grant slack:T1:U1 admin", console("eve"))  # T1 is served
    reply = await service.execute_text("role revoke eve admin", console("eve"))
    assert not reply.error_key
    assert not any(g.principal.user_id == "eve" for g in store.state.grants)


async def test_identities_from_two_workspaces_never_merge(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("role grant slack:T1:U1 operator", console("alice"))
    allowed = await service.execute_text("run demo", slack("T1", "U1"))
    assert "started" in allowed.text
    other = await service.execute_text("status", slack("T2", "U1"))
    assert "does not serve the workspace T2" in other.text
    garbage = await service.execute_text("stauts", slack("T2", "U1"))
    assert "does not serve the workspace T2" in garbage.text
    refusals = [e for e in store.state.audit if e.outcome is Outcome.REFUSED]
    assert [(e.actor, e.action) for e in refusals] == [
        ("slack:T2:U1", "status"),
        ("slack:T2:U1", "unparsed"),
    ]


async def test_a_mention_grants_in_the_speakers_own_workspace(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("role grant slack:T1:ADMIN admin", console("alice"))
    await service.execute_text("role grant <@U0456> reviewer", slack("T1", "ADMIN"))
    assert any(g.principal.key == "slack:T1:U0456" for g in store.state.grants)


async def test_a_second_run_of_a_busy_target_is_refused_with_the_running_job(
    service: CommandService, jobs: RecordingJobControl
) -> None:
    await service.execute_text("run demo", console("bob"))
    reply = await service.execute_text("run demo", console("alice"))
    assert "demo already has job #1 in progress" in reply.text
    assert "cancel #1" in reply.text
    assert jobs.launched == [1]


async def test_cancelling_a_queued_job_ends_it_at_once(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("run demo", console("bob"))
    reply = await service.execute_text("cancel #1", console("bob"))
    assert "cancelled" in reply.text
    assert store.state.jobs[1].state is JobState.CANCELLED
    again = await service.execute_text("cancel 1", console("bob"))
    assert "already ended (cancelled)" in again.text


async def test_cancelling_a_running_job_asks_its_worker(
    service: CommandService, store: FakeStore, jobs: RecordingJobControl, clock: FrozenClock
) -> None:
    await service.execute_text("run demo", console("bob"))
    store.state.jobs[1].transition(JobState.RUNNING, clock.now())
    reply = await service.execute_text("cancel #1", console("bob"))
    assert "cancelling" in reply.text
    assert jobs.cancelled == [1]
    assert store.state.jobs[1].cancel_requested


async def test_unknown_input_gets_a_did_you_mean_and_the_help_line(
    service: CommandService, store: FakeStore
) -> None:
    reply = await service.execute_text("rnu demo", console("bob"))
    assert "“rnu” is not a command." in reply.text
    assert "Did you mean: run?" in reply.text
    assert "Type help for the list of commands." in reply.text
    assert store.state.audit[-1].outcome is Outcome.INVALID
    slack_reply = await service.execute_text("rnu demo", slack("T1", "U9"), prefix="/export ")
    assert "Did you mean: /export run?" in slack_reply.text


async def test_an_unknown_target_names_the_known_ones(service: CommandService) -> None:
    reply = await service.execute_text("run dmeo", console("bob"))
    assert "There is no target “dmeo”. Targets: demo, site-a." in reply.text
    assert "Did you mean: demo?" in reply.text


async def test_history_and_status_show_jobs_newest_first(
    service: CommandService,
) -> None:
    await service.execute_text("run demo", console("bob"))
    await service.execute_text("cancel 1", console("bob"))
    await service.execute_text("run site-a", console("bob"))
    history = await service.execute_text("history", console("carol"))
    assert history.text.index("#2 site-a") < history.text.index("#1 demo")
    status = await service.execute_text("status", console("carol"))
    assert "demo — " in status.text and "#2 site-a — job" not in status.text
    assert "site-a — job #2 queued" in status.text


async def test_help_lists_every_verb_and_explains_one(service: CommandService) -> None:
    listing = await service.execute_text("help", console("mallory"))
    for verb in ("run <target>", "annotate <job>", "role grant <who> <role>"):
        assert verb in listing.text
    one = await service.execute_text("help annotate", console("mallory"))
    assert "Examples:" in one.text and "--kind relaunch" in one.text
    assert "“annotate” capability" in one.text


async def test_replies_follow_the_users_locale(service: CommandService) -> None:
    reply = await service.execute_text("run demo", console("dave", locale="fr-FR"))
    assert "Il vous faut la capacité « lancer » sur demo" in reply.text
    started = await service.execute_text("run demo", console("bob", locale="fr"))
    assert "en attente" in started.text


async def test_role_list_shows_own_roles_to_non_managers(service: CommandService) -> None:
    own = await service.execute_text("role list", console("bob"))
    assert "console:bob — operator (all targets)" in own.text
    assert "alice" not in own.text
    others = await service.execute_text("role list alice", console("bob"))
    assert "“manage roles” capability" in others.text
    everyone = await service.execute_text("role list", console("alice"))
    assert "console:dave — support" in everyone.text


class RefusingAnnotations(FakeAnnotations):
    """A database that refuses the note (as PostgreSQL refuses what it cannot store)."""

    async def add(self, annotation: Annotation) -> Annotation:
        raise RuntimeError(f"DataError: invalid input {annotation.text!r}\nTraceback (most…")


async def test_an_internal_error_is_audited_redacted_and_answered_generically(
    service: CommandService, store: FakeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await service.execute_text("run demo", console("bob"))
    monkeypatch.setattr(fakes, "FakeAnnotations", RefusingAnnotations)
    reply = await service.execute_text('annotate #1 "token xoxb-1234567890-abcdef"', console("bob"))
    assert reply.error_key == "error.internal"
    assert "DataError" not in reply.text and "xoxb" not in reply.text
    [line] = [e for e in store.state.audit if e.action == "annotate"]
    assert line.outcome is Outcome.ERROR and line.actor == "console:bob"
    assert "xoxb-1234567890" not in line.detail and "Traceback" not in line.detail
    assert line.detail.startswith("annotate #1")
    assert store.state.annotations == []  # nothing was changed


async def test_a_command_the_parser_trips_on_is_still_answered_and_audited(
    service: CommandService, store: FakeStore
) -> None:
    reply = await service.execute_text("alerts retry ²", console("alice"))
    assert reply.error_key is not None and reply.text
    [line] = store.state.audit
    assert line.outcome in (Outcome.ERROR, Outcome.INVALID) and line.actor == "console:alice"
