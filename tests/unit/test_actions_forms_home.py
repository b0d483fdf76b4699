"""Buttons, forms, the home view and batched audit, through `CommandService` on fakes."""

from __future__ import annotations

import pytest

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.commands.forms import FormInvalid, FormRef, form_command, note_form
from core.commands.grammar.parser import MAX_TEXT_LENGTH
from core.commands.model import ShowHome
from core.domain.model import AuditEntry, JobState, Outcome
from core.i18n import Translator
from tests.fakes import FakeStore
from tests.unit.conftest import TARGETS, RecordingJobControl, console, press


class ListSink:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def append(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


async def test_read_only_commands_are_audited_through_the_sink_and_changes_in_their_transaction(
    store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl
) -> None:
    sink = ListSink()
    service = CommandService(store.uow, TARGETS, clock, jobs, platforms=PLATFORMS, audit_sink=sink)
    await service.execute_text("status", console("bob"))
    await service.execute_text("run demo", console("bob"))
    await service.execute_text("run demo", console("dave"))  # refused: no run capability
    assert [(e.action, e.outcome) for e in sink.entries] == [
        ("status", Outcome.OK),
        ("run", Outcome.REFUSED),
    ]
    assert ("run", Outcome.OK) in [(e.action, e.outcome) for e in store.state.audit]
    assert "status" not in [e.action for e in store.state.audit]


async def test_a_button_press_becomes_the_command_it_names(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("run demo", console("bob"))
    pressed = await press(service, "job.cancel", "1:0", console("bob"))
    assert pressed is not None and "cancelled" in pressed.text
    assert store.state.jobs[1].state is JobState.CANCELLED


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("job.explode", "1:0"),
        ("job.cancel", "one:zero"),
        ("job.cancel", "²:0"),
        ("job.cancel", "1:²"),
        ("job.cancel", "1" * 31 + ":0"),  # 10**30: no job column holds it
        ("job.cancel", "1:" + "9" * 5000),  # past int()'s 4,300 digits
        ("job.cancel", "1:-1"),
    ],
)
async def test_a_press_no_command_stands_for_is_refused_and_audited(
    service: CommandService, store: FakeStore, name: str, value: str
) -> None:
    refused = await press(service, name, value, console("bob"))
    assert refused.ephemeral and refused.error_key == "error.bad_button"
    assert refused.summary == "This button no longer does anything."
    [entry] = store.state.audit
    assert (entry.action, entry.outcome) == ("button", Outcome.INVALID)
    assert entry.detail.startswith(f"{name} ") and len(entry.detail) <= 1000
    assert store.state.jobs == {}


async def test_retry_runs_the_target_again_only_after_the_job_ended(
    service: CommandService, store: FakeStore, jobs: RecordingJobControl
) -> None:
    await service.execute_text("run demo", console("bob"))
    busy = await press(service, "job.retry", "1:0", console("bob"))
    assert busy is not None and "already has job #1 in progress" in busy.text
    await press(service, "job.cancel", "1:0", console("bob"))
    again = await press(service, "job.retry", "1:0", console("bob"))
    assert again is not None and again.job_id == 2 and jobs.launched == [1, 2]
    refused = await press(service, "job.retry", "1:0", console("dave"))
    assert refused is not None and refused.error_key == "error.permission"


async def test_a_job_message_offers_the_next_steps_for_its_state(
    service: CommandService,
) -> None:
    started = await service.execute_text("run demo", console("bob"))
    assert [a.name for a in started.actions] == ["job.cancel", "job.note"]
    assert all(a.accessibility_label and a.version == 0 for a in started.actions)
    await service.execute_text("cancel #1", console("bob"))
    ended = await service.execute_text("status #1", console("bob"))
    assert [a.name for a in ended.actions] == ["job.retry", "job.note"]


async def test_the_note_form_names_every_bad_input_and_saves_a_good_note(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("run demo", console("bob"))
    form = service.form(FormRef.note(1), console("dave"), "prefilled words")
    assert [i.name for i in form.inputs] == ["text", "kind"]
    assert form.inputs[0].initial == "prefilled words" and form.inputs[0].label == "Note"
    with pytest.raises(FormInvalid) as invalid:
        await service.submit_form(FormRef.note(1), {"text": " ", "kind": "rant"}, console("dave"))
    assert set(invalid.value.errors) == {"text", "kind"}
    saved = await service.submit_form(
        FormRef.note(1), {"text": "host rebooted", "kind": "anomaly"}, console("dave"), link="L"
    )
    assert "host rebooted" in saved.text and "Link: L" in saved.text
    [note] = store.state.annotations
    assert (note.job_id, note.kind.value, note.link) == (1, "anomaly", "L")


async def test_the_draft_form_puts_core_refusals_on_the_right_field(
    service: CommandService, store: FakeStore
) -> None:
    values = {"target": "nowhere", "cron": "0 2 * * *", "timezone": "UTC"}
    with pytest.raises(FormInvalid) as invalid:
        await service.submit_form(FormRef.draft(), values, console("alice"))
    assert list(invalid.value.errors) == ["target"]
    assert "There is no target “nowhere”" in invalid.value.errors["target"]
    values = {"target": "demo", "cron": "61 2 * * *", "timezone": "Europe/Nowhere", "keep": "0"}
    with pytest.raises(FormInvalid) as invalid:
        await service.submit_form(FormRef.draft(), values, console("alice"))
    assert set(invalid.value.errors) == {"cron", "timezone", "keep"}
    values = {"target": "demo", "cron": "0 2 * * *", "timezone": "UTC", "keep": "3"}
    saved = await service.submit_form(FormRef.draft(), values, console("alice"))
    assert "Schedule draft #1" in saved.text
    assert store.state.drafts[1].spec.retention.keep_count == 3


async def test_home_lists_drafts_awaiting_the_viewers_review_but_not_their_own(
    service: CommandService,
) -> None:
    await service.execute_text('schedule draft demo --cron "0 2 * * *" --tz UTC', console("alice"))
    await service.execute_text("schedule submit #1", console("alice"))
    for_carol = await service.execute(ShowHome(), console("carol"))
    assert "draft #1 · demo · version 1 by alice" in for_carol.text
    for_alice = await service.execute(ShowHome(), console("alice"))
    assert "Nothing awaits your review." in for_alice.text
    assert [a.name for a in for_alice.actions] == ["draft.new"]
    stranger = await service.execute(ShowHome(), console("mallory"))
    assert "no role on any target" in stranger.text


def test_a_note_has_one_length_limit_typed_or_in_its_form() -> None:
    """`annotate` capped a note at 2,000 characters and the note form at 3,000."""
    english = Translator("en")
    [text_input] = [i for i in note_form(english, 7).inputs if i.name == "text"]
    assert text_input.max_length == MAX_TEXT_LENGTH
    with pytest.raises(FormInvalid) as refused:
        too_long = {"text": "x" * (MAX_TEXT_LENGTH + 1), "kind": "note"}
        form_command(FormRef.note(7), too_long, english)
    assert "text" in refused.value.errors
