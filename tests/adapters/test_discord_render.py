"""Discord rendering: status in words in the embed title, buttons bound to object versions,
Discord's limits kept, markdown in people's text shown as typed, labelled modal inputs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.discord.render import (
    MAX_EMBED_TEXT,
    Upload,
    attachments_field,
    custom_id,
    escape,
    modal,
    modal_response,
    modal_values,
    parse_custom_id,
    parse_modal_id,
    render,
    uploads,
)
from core.commands import actions
from core.commands.forms import (
    Choice,
    Form,
    FormInput,
    FormRef,
    InputKind,
    draft_form,
    form_command,
    note_form,
)
from core.commands.model import Annotate
from core.domain.capabilities import Capability
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import AnnotationKind
from core.domain.subscriptions import AlertKind, Severity
from core.i18n import Translator
from core.views.alerts import AlertSettings, alert_message
from core.views.jobs import job_message
from core.views.message import Action, Field, Image, Message, Tone
from tests.examples import failed_job

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EN = Translator("en")
SETTINGS = AlertSettings(
    "https://bot.example.org", b"link-secret", runbooks={"failed": "https://wiki/failed"}
)


def _buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for row in payload["components"] for b in row["components"]]


def _embed_text(payload: dict[str, Any]) -> int:
    total = 0
    for embed in payload["embeds"]:
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
        total += len(embed.get("footer", {}).get("text", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return total


def test_a_failed_job_says_failed_in_words_in_the_title_and_offers_retry() -> None:
    payload = render(job_message(EN, failed_job(NOW), now=NOW))
    [embed] = payload["embeds"]
    assert embed["title"] == "Job #7 · demo — failed"
    assert embed["color"] == 0xE01E5A  # the colour only repeats the word
    facts = {f["name"]: f["value"] for f in embed["fields"]}
    assert facts["Target"] == "demo" and facts["Error"] == "disk full"
    retry, note = _buttons(payload)
    assert retry == {"type": 2, "style": 3, "label": "Retry", "custom_id": "job.retry:7:0"}
    assert (note["custom_id"], note["style"]) == ("job.note:7:0", 2)
    assert payload["allowed_mentions"] == {"parse": []}
    assert "content" not in payload


def test_a_failure_alert_links_to_the_job_page_and_runbook_as_link_buttons() -> None:
    event = OutboxEvent(EventKind.JOB_ENDED, "demo", NOW, {"job": 7, "state": "failed"})
    message = alert_message(
        EN, event, AlertKind.FAILED, Severity.CRITICAL, SETTINGS, NOW, failed_job(NOW)
    )
    payload = render(message)
    [embed] = payload["embeds"]
    assert "failed" in embed["title"] and embed["title"].endswith("— critical")
    assert "Job page" not in {f["name"] for f in embed["fields"]}
    buttons = _buttons(payload)
    assert [b.get("custom_id") or b["label"] for b in buttons] == [
        "job.retry:7:0",
        "job.log:7:0",
        "job.note:7:0",
        "Job page",
        "Runbook",
    ]
    job_page, runbook = buttons[3:]
    assert job_page["style"] == 5 and "custom_id" not in job_page
    assert job_page["url"].startswith("https://bot.example.org/jobs/7?expires=")
    assert runbook["url"] == "https://wiki/failed"


def test_a_draft_review_has_approve_reject_and_request_changes_bound_to_its_version() -> None:
    event = OutboxEvent(EventKind.DRAFT_SUBMITTED, "demo", NOW, {"draft": 3, "version": 2})
    payload = render(alert_message(EN, event, AlertKind.REVIEW, Severity.INFO, SETTINGS, NOW))
    # F3: the card also links its review page (a link button: a URL, no custom id).
    [page] = [b for b in _buttons(payload) if "url" in b]
    assert page["label"] == "Review page" and "/drafts/3/review?expires=" in page["url"]
    presses = [b for b in _buttons(payload) if "url" not in b]
    shown = [(b["label"], b["custom_id"], b["style"]) for b in presses]
    assert shown == [
        ("Approve", "draft.approve:3:2", 3),
        ("Reject", "draft.reject:3:2", 4),
        ("Request changes", "draft.changes:3:2", 2),
    ]
    # A press decodes to the very command Slack's action_id + value would give.
    for _, encoded, _ in shown:
        parsed = parse_custom_id(encoded)
        assert parsed is not None
        name, object_id, version = parsed
        assert actions.command_for_action(name, object_id, version) is not None
    assert parse_custom_id("draft.approve:3:2") == ("draft.approve", "3", 2)


@pytest.mark.parametrize("value", ["", "job.retry", "job.retry:7", "job.retry:7:x", ":7:0"])
def test_malformed_custom_ids_parse_to_none(value: str) -> None:
    assert parse_custom_id(value) is None


def test_an_oversized_message_stays_within_every_discord_limit() -> None:
    many = Message(
        title="T" * 400,
        status="failed",
        tone=Tone.DANGER,
        fields=tuple(Field(f"label {i} " + "n" * 300, "v" * 2000) for i in range(60)),
        sections=("s" * 9000, "more"),
        actions=tuple(
            Action(f"Button {i} " + "l" * 100, "job.retry", str(i), 0, Capability.RUN)
            for i in range(30)
        ),
        footer="f" * 3000,
    )
    payload = render(many)
    embeds = payload["embeds"]
    assert 1 <= len(embeds) <= 10
    assert _embed_text(payload) <= MAX_EMBED_TEXT
    assert len(embeds[0]["title"]) <= 256 and embeds[0]["title"].endswith(" — failed")
    assert len(embeds[0]["description"]) <= 4096
    for embed in embeds:
        assert len(embed.get("fields", [])) <= 25
        for item in embed.get("fields", []):
            assert len(item["name"]) <= 256 and 1 <= len(item["value"]) <= 1024
        assert len(embed.get("footer", {}).get("text", "")) <= 2048
    assert embeds[-1]["footer"]["text"].endswith("…")
    rows = payload["components"]
    assert len(rows) == 5 and all(len(r["components"]) == 5 for r in rows)
    assert all(len(b["label"]) <= 80 for b in _buttons(payload))


def test_many_facts_spill_into_more_embeds_when_they_fit() -> None:
    payload = render(
        Message(title="Targets", fields=tuple(Field(f"t{i}", "ok") for i in range(30)))
    )
    assert [len(e["fields"]) for e in payload["embeds"]] == [25, 5]
    assert "title" not in payload["embeds"][1]


def test_a_custom_id_too_long_for_discord_leaves_the_button_out_rather_than_cut_it() -> None:
    long_target = "t" * 95
    run = Action("Run now", "target.run", long_target, 0, Capability.RUN)
    note = Action("Add note", "job.note", "7", 0, Capability.ANNOTATE)
    assert custom_id(run) is None
    assert [b["custom_id"] for b in _buttons(render(Message(title="x", actions=(run, note))))] == [
        "job.note:7:0"
    ]


def test_markdown_in_peoples_text_is_shown_as_typed() -> None:
    note = "**disk** full, see [x](https://evil.test) <@123>\n# not a heading\n- not a list"
    message = Message(
        title="Note on job #7 by _ann_",
        status="saved",
        fields=(Field("By", "ann_smith*"),),
        sections=(note,),
        footer="*plain footer*",
    )
    [embed] = render(message)["embeds"]
    assert embed["title"] == "Note on job #7 by \\_ann\\_ — saved"
    assert embed["fields"][0]["value"] == "ann\\_smith\\*"
    assert embed["description"] == (
        "\\*\\*disk\\*\\* full, see \\[x\\](https://evil.test) \\<@123\\>\n"
        "\\# not a heading\n\\- not a list"
    )
    assert embed["footer"]["text"] == "*plain footer*"  # footers show no markdown anyway


def test_links_in_text_are_kept_whole_while_the_text_around_them_is_escaped() -> None:
    assert escape("log at https://x.test/a_b_c?d=*e* _now_") == (
        "log at https://x.test/a_b_c?d=*e* \\_now\\_"
    )
    assert escape("1. one\n-# small\n> quote\n`code` ||spoiler|| ~~gone~~") == (
        "1\\. one\n-\\# small\n\\> quote\n\\`code\\` \\|\\|spoiler\\|\\| \\~\\~gone\\~\\~"
    )


def test_images_become_uploads_with_their_alt_text() -> None:
    png = b"\x89PNG\r\n\x1a\n fake"
    message = Message(
        title="Sizes",
        images=(
            Image("data:image/png;base64," + base64.b64encode(png).decode(), "Sizes, rising"),
            Image("https://charts.test/x/size chart.png?w=2", "a" * 2000),
        ),
    )
    inline, remote = uploads(message)
    assert inline == Upload("image-1.png", "Sizes, rising", png)
    assert (remote.data, remote.url) == (None, "https://charts.test/x/size chart.png?w=2")
    assert remote.filename == "2-size_chart.png" and len(remote.description) == 1024
    assert attachments_field([inline]) == [
        {"id": 0, "filename": "image-1.png", "description": "Sizes, rising"}
    ]
    assert "image" not in render(message)["embeds"][0]


def test_the_note_modal_has_labelled_inputs_and_a_select_for_the_kind() -> None:
    response = modal_response(note_form(EN, 7, "half done"))
    assert response["type"] == 9
    data = response["data"]
    assert (data["custom_id"], data["title"]) == ("note:7", "Note on job #7")
    text, kind = data["components"]
    assert (text["type"], text["label"]) == (18, "Note")
    assert len(text["description"]) <= 100 and text["description"].startswith("Saved on job #7")
    assert text["component"] == {
        "type": 4,
        "custom_id": "text",
        "style": 2,
        "required": True,
        "max_length": 2000,  # the same limit as `annotate`
        "value": "half done",
    }
    assert (kind["type"], kind["label"]) == (18, "Kind of note")
    select = kind["component"]
    assert (select["type"], select["custom_id"], select["required"]) == (3, "kind", True)
    assert [(o["value"], o.get("default", False)) for o in select["options"]] == [
        ("note", True),
        ("relaunch", False),
        ("anomaly", False),
    ]
    assert "min_values" not in select  # Discord wants it omitted when required


def test_a_submitted_modal_reads_back_into_the_cores_command() -> None:
    form = note_form(EN, 7)
    submitted = [
        {"type": 18, "id": 1, "component": {"type": 4, "id": 2, "custom_id": "text", "value": "x"}},
        {
            "type": 18,
            "id": 3,
            "component": {"type": 3, "id": 4, "custom_id": "kind", "values": ["anomaly"]},
        },
    ]
    form_id, context = parse_modal_id(modal(form)["custom_id"])
    command = form_command(FormRef(form_id, context), modal_values(submitted), EN)
    assert command == Annotate(7, "x", AnnotationKind.ANOMALY)
    legacy = [{"type": 1, "components": [{"type": 4, "custom_id": "text", "value": "y"}]}]
    assert modal_values(legacy) == {"text": "y"}


def test_the_draft_modal_fits_discord_and_long_choice_lists_fall_back_to_text() -> None:
    data = modal(draft_form(EN, ["demo", "site-a"]))
    assert data["custom_id"] == "draft:" and len(data["components"]) == 5
    for label in data["components"]:
        assert len(label["label"]) <= 45 and len(label.get("description", "")) <= 100
    target = data["components"][0]["component"]
    assert target["type"] == 3 and not any(o.get("default") for o in target["options"])
    keep = data["components"][3]["component"]
    assert (keep["type"], keep["style"], keep["required"]) == (4, 1, False)

    crowded = modal(draft_form(EN, [f"site-{i}" for i in range(30)]))
    fallback = crowded["components"][0]["component"]
    assert (fallback["type"], fallback["style"]) == (4, 1)
    assert (
        fallback["placeholder"].startswith("site-0, site-1") and len(fallback["placeholder"]) <= 100
    )


def test_a_form_discord_cannot_show_is_refused_clearly() -> None:
    inputs = tuple(FormInput(f"i{n}", f"Input {n}", InputKind.TEXT) for n in range(6))
    with pytest.raises(ValueError, match="1 to 5"):
        modal(Form("big", "Big", "Save", inputs))
    optional = FormInput(
        "kind", "Kind", InputKind.CHOICE, required=False, choices=(Choice("a", "A"),)
    )
    select = modal(Form("f", "T" * 60, "Save", (optional,)))
    assert len(select["title"]) == 45
    assert select["components"][0]["component"]["min_values"] == 0
