"""The typed values that cross the platforms' wire: each encodes to the very string the
platforms already hold (old buttons and modals stay pressable) and decodes back; anything
else decodes to a refusal, never an exception."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.commands import model as c
from core.commands.actions import Press
from core.commands.forms import DECISION_FORM, DRAFT_FORM, NOTE_FORM, FormRef, PostRef
from core.delivery.senders import SenderKey
from core.delivery.webhooks import Webhook, WebhookFormat, webhook_sender_key
from core.domain.subscriptions import Destination
from tests.hostile.chat_shapes import HOSTILE_TEXT

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# What our buttons carry: action names with dots, objects without a colon (a job number or a
# target name), versions of 1 to 12 digits. Colons only ever separate the parts.
ACTIONS = st.text(st.characters(codec="ascii", exclude_characters=":\x00"), min_size=1)
OBJECTS = st.text(st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=":"))
VERSIONS = st.integers(min_value=0, max_value=10**12 - 1)
PRESSES = st.builds(Press, ACTIONS.filter(lambda a: a.isprintable()), OBJECTS, VERSIONS)


@given(PRESSES)
def test_a_press_decodes_from_what_it_encodes(press: Press) -> None:
    assert Press.decode(press.encode()) == press
    assert Press.of(press.action, press.value) == press


def test_the_wire_strings_are_the_ones_platforms_already_hold() -> None:
    press = Press("draft.approve", "3", 2)
    assert press.value == "3:2"  # Slack's button value
    assert press.encode() == "draft.approve:3:2"  # a Discord custom_id
    assert Press.decode("job.retry:7:0") == Press("job.retry", "7", 0)
    assert Press.of("draft.reject", "3:2", " too early ") == Press(
        "draft.reject", "3", 2, " too early "
    )


@pytest.mark.parametrize(
    "text", ["", "job.retry", "job.retry:7", "job.retry:7:x", ":7:0", "job.retry:7:²", "a:b:-1"]
)
def test_a_custom_id_that_is_no_press_decodes_to_none(text: str) -> None:
    assert Press.decode(text) is None


@pytest.mark.parametrize("value", ["", "7", "one:zero", "1:²", "1:" + "9" * 5000, "1:-1"])
def test_a_button_value_that_is_no_press_decodes_to_none(value: str) -> None:
    assert Press.of("job.retry", value) is None


@given(HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT)
def test_hostile_button_fields_decode_to_a_clean_press_or_none(
    action: str, value: str, comment: str
) -> None:
    for press in (Press.of(action, value, comment), Press.decode(f"{action}:{value}")):
        if press is not None:
            for part in (press.action, press.object_id, press.comment):
                assert "\x00" not in part and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in part)
            press.command()  # a command or None; never an exception


def test_a_press_stands_for_its_command_and_an_unknown_one_for_none() -> None:
    assert Press("job.cancel", "1", 0).command() == c.CancelJob(1)
    assert Press("target.run", "demo", 0).command() == c.RunJob("demo")
    assert Press("job.explode", "1", 0).command() is None
    assert Press("job.cancel", "1" * 31, 0).command() is None  # no id column holds it


# What a form reference carries: form ids and channels without the separators that follow
# them, contexts without `|`, message ids anything but empty.
NAMES = st.text(st.characters(exclude_characters=":|/"), min_size=1)
REFS = st.builds(
    FormRef,
    st.sampled_from([NOTE_FORM, DRAFT_FORM, DECISION_FORM]) | NAMES,
    st.text(st.characters(exclude_characters="|")),
    st.none() | st.builds(PostRef, NAMES, st.text(min_size=1)),
)


@given(REFS)
def test_a_form_reference_decodes_from_what_it_encodes(ref: FormRef) -> None:
    assert FormRef.decode(ref.encode()) == ref


def test_form_references_keep_the_modal_ids_already_on_screens() -> None:
    assert FormRef.note(7).encode() == "note:7"
    assert FormRef.note(7, PostRef("C1", "M2")).encode() == "note:7|C1/M2"
    assert FormRef.decision(Press("draft.reject", "3", 2)).encode() == "decision:draft.reject:3:2"
    assert FormRef.decode("note:7|C1/M2") == FormRef("note", "7", PostRef("C1", "M2"))
    assert FormRef.decode("note:7|C1/M2").job_id == 7
    assert FormRef.decode("decision:draft.reject:3:2").press == Press("draft.reject", "3", 2)


@pytest.mark.parametrize("text", ["", "note:²", "note:" + "9" * 5000, "note:" + "1" * 31, "x:1"])
def test_a_forged_modal_id_decodes_to_a_reference_no_job_has(text: str) -> None:
    ref = FormRef.decode(text)
    assert ref.job_id is None and ref.press is None


@given(HOSTILE_TEXT)
def test_hostile_modal_ids_decode_without_an_exception(text: str) -> None:
    ref = FormRef.decode(text)
    assert ref.job_id is None or 1 <= ref.job_id < 2**31
    assert ref.press is None or ref.press.command() is None or ref.form_id == DECISION_FORM


@given(st.text(st.characters(exclude_characters=":")), st.text())
def test_a_sender_key_reads_back_its_platform_and_workspace(platform: str, workspace: str) -> None:
    key = SenderKey(platform, workspace)
    assert (key.platform, key.workspace) == (platform, workspace)
    assert SenderKey.parse(key) == key == f"{platform}:{workspace}"


def test_destinations_and_webhooks_have_the_sender_keys_configuration_names() -> None:
    assert SenderKey.of(Destination("slack", "T1", "C1")) == "slack:T1"
    assert SenderKey("discord") == "discord:"  # Discord's direct messages
    hook = Webhook(WebhookFormat.SLACK, "https://hooks.slack.com/x", "alice", T0, id=7)
    assert hook.destination == Destination("webhook", "slack", "7")
    assert SenderKey.of(hook.destination) == webhook_sender_key(WebhookFormat.SLACK)
