"""Core `Form` ↔ Slack modal: labelled inputs out, submitted values and field errors back.

Each input becomes an `input` block whose `block_id` is the input's name, so a `FormInvalid`
from the core maps straight onto Slack's `response_action: errors` (shown under the field).
What the form is about (its job, the channel and thread it came from) rides in
`private_metadata` and comes back with the submission.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from adapters.slack.render import Block, blocks, plain
from adapters.slack.surface import MODAL_DRAFT, MODAL_NOTE
from core.commands.forms import DRAFT_FORM, NOTE_FORM, Form, FormInput, InputKind
from core.i18n import Translator
from core.safety.text import cut
from core.views.message import Message

MODAL_CALLBACKS = {NOTE_FORM: MODAL_NOTE, DRAFT_FORM: MODAL_DRAFT}
FORM_OF_CALLBACK = {callback: form for form, callback in MODAL_CALLBACKS.items()}
MAX_TITLE = 24  # modal title and button texts
MAX_LABEL = 2000
MAX_HINT = 2000
MAX_MODAL_BLOCKS = 100


@dataclass(frozen=True)
class Origin:
    """Where a form was opened from: the reply goes back there."""

    context: str = ""
    channel: str = ""
    thread: str = ""
    link: str = ""

    def dumps(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> Origin:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        return cls(**{k: str(data.get(k, "")) for k in ("context", "channel", "thread", "link")})


def modal(form: Form, origin: Origin, t: Translator) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACKS[form.form_id],
        "title": plain(cut(form.title, MAX_TITLE)),
        "submit": plain(cut(form.submit_label, MAX_TITLE)),
        "close": plain(cut(t.t("form.cancel"), MAX_TITLE)),
        "private_metadata": origin.dumps(),
        "blocks": [_input_block(i) for i in form.inputs],
    }


def result_modal(message: Message, t: Translator) -> dict[str, Any]:
    """The modal's second page: the result of the submission, with its whole text."""
    return {
        "type": "modal",
        "title": plain(cut(t.t("slack.form_saved"), MAX_TITLE)),
        "close": plain(cut(t.t("form.close"), MAX_TITLE)),  # done, not cancelled
        "blocks": blocks(message)[:MAX_MODAL_BLOCKS],
    }


def submitted_values(view: dict[str, Any]) -> dict[str, str]:
    """`view.state.values` → `{input name: text}` whatever the element type."""
    values: dict[str, str] = {}
    for block_id, elements in ((view.get("state") or {}).get("values") or {}).items():
        for element in (elements or {}).values():
            element = element or {}  # the door lets null through (an unset input)
            selected = element.get("selected_option") or {}
            value = element.get("value")
            values[block_id] = str(selected.get("value") or value or "")
    return values


def _input_block(field: FormInput) -> Block:
    element: Block = {"action_id": field.name}
    if field.kind is InputKind.CHOICE:
        options = [_option(c.value, c.label) for c in field.choices]
        element.update(type="static_select", options=options)
        chosen = next((o for o in options if o["value"] == field.initial), None)
        if chosen is not None:
            element["initial_option"] = chosen
    elif field.kind is InputKind.NUMBER:
        element.update(type="number_input", is_decimal_allowed=False, min_value="1")
    else:
        element.update(type="plain_text_input", multiline=field.kind is InputKind.LONG_TEXT)
        if field.max_length:
            element["max_length"] = field.max_length
    if field.initial and field.kind is not InputKind.CHOICE:
        element["initial_value"] = field.initial
    if field.placeholder:
        element["placeholder"] = plain(cut(field.placeholder, 150))
    block: Block = {
        "type": "input",
        "block_id": field.name,
        "label": plain(cut(field.label, MAX_LABEL)),
        "optional": not field.required,
        "element": element,
    }
    if field.hint:
        block["hint"] = plain(cut(field.hint, MAX_HINT))
    return block


def _option(value: str, label: str) -> Block:
    return {"text": plain(cut(label, 75)), "value": value[:150]}
