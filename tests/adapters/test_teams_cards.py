"""Adaptive Cards for Teams: status in words, labelled inputs, actions bound to versions."""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.teams import cards
from adapters.teams.cards import (
    card_from_invoke_value,
    escape,
    form_card,
    invoke_card_response,
    invoke_message_response,
    message_activity,
    message_attachment,
    message_card,
    plain_activity,
)
from core.commands.forms import (
    FormInput,
    FormInvalid,
    InputKind,
    draft_form,
    form_command,
    note_form,
)
from core.domain.capabilities import Capability
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import Job, Principal
from core.domain.subscriptions import AlertKind, Severity
from core.i18n import Translator
from core.views.alerts import AlertSettings, alert_message
from core.views.jobs import job_message
from core.views.message import Action, Field, Image, Message, Tone
from tests.examples import failed_job

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SETTINGS = AlertSettings(
    "https://bot.example.org", b"link-secret", runbooks={"failed": "https://wiki/failed"}
)
EN = Translator("en")


def _failed_job() -> Job:
    return failed_job(
        NOW,
        requester=Principal("teams", "tenant", "aad-1"),
        archive_path="/srv/archives/demo_2026-11-25.tar.gz",
    )


def _blocks(card: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in card["body"] if b["type"] == kind]


def _facts(card: dict[str, Any]) -> dict[str, str]:
    [fact_set] = _blocks(card, "FactSet")
    return {f["title"]: f["value"] for f in fact_set["facts"]}


def test_a_job_card_has_its_title_status_word_facts_and_speaks_the_summary() -> None:
    message = job_message(EN, _failed_job(), now=NOW)
    card = message_card(message)
    assert (card["type"], card["version"], card["$schema"]) == (
        "AdaptiveCard",
        "1.5",
        "http://adaptivecards.io/schemas/adaptive-card.json",
    )
    title, status = card["body"][:2]
    assert title == {
        "type": "TextBlock",
        "text": "Job #7 · demo",
        "wrap": True,
        "weight": "bolder",
        "size": "medium",
        "style": "heading",
    }
    assert (status["text"], status["color"]) == ("failed", "attention")
    facts = _facts(card)
    assert facts["Target"] == "demo" and facts["Error"] == "disk full"
    # The archive's underscore must not start italics in Teams' markdown.
    assert facts["Archive"] == "demo\\_2026-11-25.tar.gz"
    assert card["speak"] == message.summary and "failed" in card["speak"]


def test_job_buttons_are_execute_actions_bound_to_object_version_with_spoken_tooltips() -> None:
    card = message_card(job_message(EN, _failed_job(), now=NOW))
    retry, note = card["actions"]
    assert retry == {
        "type": "Action.Execute",
        "title": "Retry",
        "verb": "job.retry",
        "data": {"object": "7", "version": 0},
        "tooltip": "Run demo again after job 7",
        "style": "positive",
    }
    # "Add note" opens its form under the card (issue 13, item 6): nothing is replaced.
    assert (note["type"], note["id"], note["title"]) == ("Action.ShowCard", "job.note", "Add note")
    assert note["tooltip"] == "Add a note to job 7 of demo"
    form = note["card"]
    assert form["type"] == "AdaptiveCard" and "version" not in form  # only the outer card's
    [text, kind] = [b for b in form["body"] if b["type"].startswith("Input.")]
    assert (text["id"], text["isRequired"], text["errorMessage"]) == (
        "text",
        True,
        "This field is required.",
    )
    assert kind["id"] == "kind" and kind["value"] == "note"
    assert form["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Save note",
            "verb": "form.submit",
            "data": {"form": "note", "context": "7", "inline": True},
            "style": "positive",
        }
    ]


def test_an_alert_turns_its_job_page_and_runbook_into_open_url_actions() -> None:
    event = OutboxEvent(EventKind.JOB_ENDED, "demo", NOW, {"job": 7, "state": "failed"})
    message = alert_message(
        EN, event, AlertKind.FAILED, Severity.CRITICAL, SETTINGS, NOW, _failed_job()
    )
    card = message_card(message)
    facts = _facts(card)
    assert "Job page" not in facts and "Runbook" not in facts
    assert facts["Severity"] == "critical"
    kinds = [(a["type"], a.get("verb") or a["title"]) for a in card["actions"]]
    assert kinds == [
        ("Action.Execute", "job.retry"),
        ("Action.Execute", "job.log"),
        ("Action.ShowCard", "Add note"),
        ("Action.OpenUrl", "Job page"),
        ("Action.OpenUrl", "Runbook"),
    ]
    job_page, runbook = card["actions"][3:]
    assert job_page["url"].startswith("https://bot.example.org/jobs/7?")
    assert runbook["url"] == "https://wiki/failed"
    why, todo = (b["text"] for b in _blocks(card, "TextBlock")[2:4])
    assert why.startswith("No new archive of demo") and todo.startswith("Read the log tail")


def test_review_buttons_carry_the_draft_version_and_style_their_tone() -> None:
    event = OutboxEvent(EventKind.DRAFT_SUBMITTED, "demo", NOW, {"draft": 3, "version": 2})
    card = message_card(alert_message(EN, event, AlertKind.REVIEW, Severity.INFO, SETTINGS, NOW))
    # F3: the card also opens its review page (Action.OpenUrl, no verb).
    [page] = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    assert page["title"] == "Review page" and "/drafts/3/review?expires=" in page["url"]
    presses = [a for a in card["actions"] if a["type"] != "Action.OpenUrl"]
    shown = [(a["title"], a["verb"], a["data"], a.get("style")) for a in presses]
    assert shown == [
        ("Approve", "draft.approve", {"object": "3", "version": 2}, "positive"),
        ("Reject", "draft.reject", {"object": "3", "version": 2}, "destructive"),
        ("Request changes", "draft.changes", {"object": "3", "version": 2}, None),
    ]


@pytest.mark.parametrize(
    ("tone", "color"),
    [
        (Tone.SUCCESS, "good"),
        (Tone.WARNING, "warning"),
        (Tone.DANGER, "attention"),
        (Tone.INFO, "accent"),
        (Tone.NEUTRAL, "default"),
    ],
)
def test_tones_colour_the_status_but_the_word_is_always_there(tone: Tone, color: str) -> None:
    card = message_card(Message(title="Export", status="in words", tone=tone))
    status = card["body"][1]
    assert (status["text"], status["color"]) == ("in words", color)
    assert card["speak"] == "Export — in words"


def test_images_keep_their_alt_text_and_user_text_is_shown_as_written() -> None:
    message = Message(
        title="Sizes",
        sections=("first line\nsecond *bold* [x](https://evil.test)\n- not a list",),
        images=(Image("https://x.test/chart.png", "Archive size over 7 days, rising"),),
        footer="Sent by exportbot",
    )
    card = message_card(message)
    [image] = _blocks(card, "Image")
    assert image == {
        "type": "Image",
        "url": "https://x.test/chart.png",
        "altText": "Archive size over 7 days, rising",
    }
    section = card["body"][1]["text"]
    assert section == (
        "first line\n\nsecond \\*bold\\* \\[x\\](https://evil.test)\n\n\\- not a list"
    )
    assert card["body"][-1]["isSubtle"] is True and card["body"][-1]["text"] == "Sent by exportbot"
    assert _blocks(card, "FactSet") == []


def test_escape_leaves_plain_text_alone_and_breaks_numbered_lists() -> None:
    assert escape("Job #7 · demo — 1.2 MB") == "Job #7 · demo — 1.2 MB"
    assert escape("1. first\r\n2) second") == "1\\. first\n\n2\\) second"
    assert escape("C:\\backup") == "C:\\\\backup"


def test_escape_keeps_tag_shaped_text_visible() -> None:
    # Teams drops what looks like a tag (`<at>x</at>` vanished); escaped, it is shown as typed.
    assert (
        escape("<at>Everyone</at> & <b>x</b>") == "\\<at\\>Everyone\\</at\\> \\& \\<b\\>x\\</b\\>"
    )


def test_more_than_five_actions_move_in_order_into_action_sets_before_the_footer() -> None:
    # Five per set: the host configuration's default; the adaptivecards library refuses a sixth.
    actions = tuple(Action(f"Step {i}", f"step.{i}", "1", 0, Capability.VIEW) for i in range(7))
    links = (Field("Docs", "https://docs.test/a"),)
    card = message_card(Message(title="Many", fields=links, actions=actions, footer="end"))
    assert card["actions"] == []
    sets = _blocks(card, "ActionSet")
    assert [len(s["actions"]) for s in sets] == [5, 3]
    titles = [a["title"] for s in sets for a in s["actions"]]
    assert titles == [f"Step {i}" for i in range(7)] + ["Docs"]
    assert card["body"][-1]["text"] == "end"


def test_long_titles_are_cut_and_huge_messages_stay_under_the_teams_size_limit() -> None:
    message = Message(
        title="T" * 400,
        fields=tuple(Field(f"f{i}", "v" * 3000) for i in range(10)),
        sections=tuple("é" * 4000 for _ in range(10)),
        actions=(Action("L" * 80, "x", "1", 0, Capability.VIEW),),
        summary="s" * 2000,
    )
    activity = message_activity(message)
    size = len(json.dumps(activity, ensure_ascii=False).encode("utf-16-le"))
    assert size < 40 * 1024
    card = activity["attachments"][0]["content"]
    assert len(card["body"][0]["text"]) == cards.MAX_TITLE and card["body"][0]["text"][-1] == "…"
    assert len(card["actions"][0]["title"]) == cards.MAX_ACTION_TITLE
    assert len(activity["summary"]) == cards.MAX_SUMMARY


def test_the_activity_carries_summary_and_speak_and_no_duplicate_text() -> None:
    message = job_message(EN, _failed_job(), now=NOW)
    activity = message_activity(message)
    assert activity["type"] == "message" and "text" not in activity
    assert activity["summary"] == activity["speak"] == message.summary
    assert activity["attachments"] == [message_attachment(message)]
    assert activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert plain_activity("a *b*") == {"type": "message", "text": "a *b*", "textFormat": "plain"}


def _inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["id"]: b for b in card["body"] if b["type"].startswith("Input.")}


def test_the_note_form_has_labelled_inputs_hints_and_a_submit_bound_to_its_job() -> None:
    card = form_card(note_form(EN, 7, "first words"), required_error="This field is required.")
    assert card["body"][0]["text"] == "Note on job #7" and card["speak"] == "Note on job #7"
    text, kind = _inputs(card).values()
    assert text == {
        "type": "Input.Text",
        "id": "text",
        "label": "Note",
        "isRequired": True,
        "errorMessage": "This field is required.",
        "isMultiline": True,
        "maxLength": 2000,  # the same limit as `annotate`
        "value": "first words",
    }
    assert (kind["type"], kind["style"], kind["value"], kind["label"]) == (
        "Input.ChoiceSet",
        "compact",
        "note",
        "Kind of note",
    )
    assert kind["choices"][1] == {"title": "relaunch", "value": "relaunch"}
    hint = card["body"][card["body"].index(text) + 1]
    assert hint["isSubtle"] is True and hint["text"].startswith("Saved on job #7")
    assert card["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Save note",
            "verb": "form.submit",
            "data": {"form": "note", "context": "7"},
            "style": "positive",
        }
    ]


def test_draft_form_errors_show_right_under_their_input_with_typed_values_kept() -> None:
    form = draft_form(EN, ["demo", "site-a"])
    typed = {"target": "", "cron": "every day", "timezone": "Mars/Olympus", "keep": "5"}
    with pytest.raises(FormInvalid) as invalid:
        form_command(form.ref, typed, EN)
    errors = invalid.value.errors
    assert {"target", "cron", "timezone"} <= errors.keys()
    card = form_card(form, values=typed, errors=errors)
    body, inputs = card["body"], _inputs(card)
    for name in ("target", "cron", "timezone"):
        after = body[body.index(inputs[name]) + 1]
        assert after["color"] == "attention" and after["text"] == escape(errors[name])
        assert inputs[name]["errorMessage"] == errors[name]
    assert inputs["cron"]["value"] == "every day" and inputs["cron"]["placeholder"] == "0 2 * * *"
    assert inputs["keep"] == {
        "type": "Input.Number",
        "id": "keep",
        "label": "Archives to keep",
        "isRequired": False,
        "value": 5,
    }
    assert "value" not in inputs["target"]
    assert [c["value"] for c in inputs["target"]["choices"]] == ["demo", "site-a"]
    assert "errorMessage" not in inputs["exclude"]
    # The gitignore example in the hint must not turn into italics.
    exclude_hint = body[body.index(inputs["exclude"]) + 1]["text"]
    assert "node\\_modules/, \\*.mp4" in exclude_hint


def test_an_error_naming_no_input_shows_at_the_top_of_the_form() -> None:
    card = form_card(note_form(EN, 7), errors={"": "This form is out of date; open it again."})
    assert card["body"][1]["color"] == "attention"
    assert card["body"][1]["text"] == "This form is out of date; open it again."


def test_the_french_translator_gives_french_labels() -> None:
    fr = Translator("fr")
    card = form_card(note_form(fr, 7))
    inputs = _inputs(card)
    assert inputs["kind"]["label"] == "Type de note"
    assert [c["title"] for c in inputs["kind"]["choices"]] == ["note", "relance", "anomalie"]
    assert card["actions"][0]["title"] == "Enregistrer"
    assert _inputs(form_card(draft_form(fr, ["demo"])))["target"]["label"] == "Cible"
    status = message_card(job_message(fr, _failed_job(), now=NOW))["body"][1]
    assert status["text"] == "échoué"


def test_an_invoke_value_round_trips_verb_data_and_typed_inputs() -> None:
    card = form_card(note_form(EN, 7))
    submit = card["actions"][0]
    # The shape Teams sends in an `adaptiveCard/action` invoke: inputs merged into data.
    value = {
        "action": {
            "type": "Action.Execute",
            "id": "",
            "verb": submit["verb"],
            "data": {**submit["data"], "text": "looks fine", "kind": "note"},
        },
        "trigger": "manual",
    }
    verb, data = card_from_invoke_value(json.loads(json.dumps(value)))
    assert verb == "form.submit"
    assert data == {"form": "note", "context": "7", "text": "looks fine", "kind": "note"}
    button = message_card(job_message(EN, _failed_job(), now=NOW))["actions"][0]
    pressed = {"action": {"type": "Action.Execute", "verb": button["verb"], "data": button["data"]}}
    assert card_from_invoke_value(pressed) == ("job.retry", {"object": "7", "version": 0})
    no_data = {"action": {"type": "Action.Execute", "verb": "x"}}
    assert card_from_invoke_value(no_data) == ("x", {})


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "action",
        {},
        {"action": "job.retry"},
        {"action": {"type": "Action.Submit", "verb": "job.retry", "data": {}}},
        {"action": {"type": "Action.Execute", "data": {}}},
        {"action": {"type": "Action.Execute", "verb": "", "data": {}}},
        {"action": {"type": "Action.Execute", "verb": 3, "data": {}}},
        {"action": {"type": "Action.Execute", "verb": "job.retry", "data": ["7"]}},
    ],
)
def test_a_malformed_invoke_value_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="Invoke"):
        card_from_invoke_value(value)


def test_invoke_responses_replace_the_card_or_tell_only_the_presser() -> None:
    card = message_card(Message(title="Done", status="succeeded", tone=Tone.SUCCESS))
    assert invoke_card_response(card) == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.card.adaptive",
        "value": card,
    }
    assert invoke_message_response("You cannot approve your own draft.") == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "You cannot approve your own draft.",
    }


def test_a_form_input_may_not_shadow_the_submit_data() -> None:
    form = note_form(EN, 7)
    bad = replace(form, inputs=(*form.inputs, FormInput("context", "Context", InputKind.TEXT)))
    with pytest.raises(ValueError, match="context"):
        form_card(bad)


def test_the_cards_module_imports_only_core_and_the_standard_library() -> None:
    tree = ast.parse(Path(cards.__file__).read_text(encoding="utf-8"))
    roots = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert roots - {"core", "__future__"} <= set(sys.stdlib_module_names)
    assert "core" in roots


@pytest.mark.parametrize("keep", ["²", "٣", "9" * 5000, "+5", "1_0"])
def test_a_typed_number_no_one_can_read_is_left_for_the_person_to_retype(keep: str) -> None:
    """The form comes back with the person's typing; `"²".isdigit()` is true, int() refuses."""
    form = draft_form(EN, ["demo"])
    card = form_card(form, values={"keep": keep}, errors={"keep": "not a number"})
    assert "value" not in _inputs(card)["keep"]


def _unwrappable(card: Any) -> list[str]:
    """Every text in `card` placed where Teams may not wrap it: fact values (Teams mobile
    cuts them at the edge) and TextBlocks without `wrap`."""
    found: list[str] = []
    if isinstance(card, dict):
        if card.get("type") == "FactSet":
            found.extend(f["value"] for f in card["facts"])
        if card.get("type") == "TextBlock" and not card.get("wrap"):
            found.append(card["text"])
        for value in card.values():
            found.extend(_unwrappable(value))
    elif isinstance(card, list):
        for item in card:
            found.extend(_unwrappable(item))
    return found


def test_long_facts_such_as_a_checksum_are_drawn_where_they_wrap_in_their_order() -> None:
    sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    archive = "/srv/archives/demo/nightly-full-export_2026-11-25T03-00-00Z.tar.zst"
    job = replace(_failed_job(), sha256=sha, archive_path=archive, file_count=214)
    card = message_card(job_message(EN, job, now=NOW))
    assert [v for v in _unwrappable(card) if len(v) > cards.MAX_FACT_VALUE] == []
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert sha in texts  # whole: a checksum is copied, not read
    facts = [f["title"] for s in _blocks(card, "FactSet") for f in s["facts"]]
    assert "Files" in facts and "SHA-256" not in facts
    # The label comes right before its value, and the facts keep the core's order.
    assert texts[texts.index(sha) - 1] == "SHA-256"
    order = [
        b["facts"][0]["title"] if b["type"] == "FactSet" else b.get("text") for b in card["body"]
    ]
    assert order.index("SHA-256") > order.index("Target")
