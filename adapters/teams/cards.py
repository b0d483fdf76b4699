"""`Message` and `Form` → Adaptive Cards (schema 1.5, Universal Actions) for Teams, and back.

Reading order is tab order, so the body goes title, status in words, facts, sections, images,
footer; the status colour only repeats the word (F1). Every input has a `label`, every image an
`altText`, and the card's `speak` carries the one-sentence summary (F2).

Teams renders a markdown subset in `TextBlock`, `Fact.title` and `Fact.value` (bold, italic,
lists, links) and needs a blank line for a line break outside lists, so text from the core goes
through `escape` first. Labels, button titles and choice titles are plain text.

Limits: a bot message is at most 40 KB counted in UTF-16 (Teams "Format your bot messages");
Teams shows at most 6 actions in one action set, and the Adaptive Cards default host
configuration (other hosts, the adaptivecards library's own validation) 5. When a message has
more than 5 buttons and links, they all move, in order, into `ActionSet`s of 5 at the end of the
body (before the footer) rather than being dropped or folded into an overflow menu. Teams
documents no per-text limits; the `MAX_*` lengths below are ours, to keep buttons on one line
and the card well inside the message limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from core.commands.actions import COMMENT_INPUT, MAX_COMMENT
from core.commands.forms import Form, FormInput, InputKind
from core.commands.numbers import whole_number
from core.safety.text import cut
from core.views.message import Action, Field, Image, Message, Tone

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_CONTENT_TYPE = "application/vnd.microsoft.activity.message"
FORM_SUBMIT = "form.submit"

MAX_ACTIONS = 5  # per action set: the host configuration's default (Teams allows 6)
MAX_CARD_BYTES = 32_000  # UTF-16 bytes: leaves room under 40 KB for the activity around it
MAX_TEXT = 4_000  # a section or fact value, before the size guard shortens it further
# A fact value longer than this leaves the FactSet for a wrapped TextBlock: a phone's value
# column holds about this many characters, and Teams mobile cuts a value there, unwrapped.
MAX_FACT_VALUE = 40
MIN_TEXT = 200
MAX_TITLE = 250
MAX_ACTION_TITLE = 40
MAX_TOOLTIP = 250
MAX_LABEL = 250
MAX_SUMMARY = 500
MAX_PLAIN = 16_000  # characters: 40 KB of UTF-16 with room for the envelope

TONE_COLORS = {
    Tone.SUCCESS: "good",
    Tone.WARNING: "warning",
    Tone.DANGER: "attention",
    Tone.INFO: "accent",
    Tone.NEUTRAL: "default",
}
BUTTON_STYLES = {Tone.SUCCESS: "positive", Tone.DANGER: "destructive"}
# Teams merges typed values into the submit action's data: an input must not shadow these.
FORM_DATA_KEYS = frozenset({"form", "context", "inline"})

Card = dict[str, Any]
_EMPTY: Mapping[str, str] = MappingProxyType({})
# Markdown's emphasis and link markers, and `<` `>` `&`: Teams drops tag-shaped text
# (`<at>x</at>` vanished) and reads entities; escaped, each shows as typed.
_SPECIAL = re.compile(r"([\\*_\[\]<>&])")
_LIST_START = re.compile(r"^(\s*)([-+]|\d+[.)])(\s)", re.MULTILINE)
_NEWLINES = re.compile(r"\n+")


def escape(text: str) -> str:
    """Core text as Teams card markdown that shows exactly what was written: emphasis, link,
    list and tag markers escaped, each line break a blank line (a single one would be lost)."""
    text = _SPECIAL.sub(r"\\\1", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _LIST_START.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}{m[3]}", text)
    return _NEWLINES.sub("\n\n", text)


def message_card(message: Message) -> Card:
    """The Adaptive Card for a message, shortened until it fits Teams' message size."""
    limit = MAX_TEXT
    card = _message_card(message, limit)
    while _utf16_size(card) > MAX_CARD_BYTES and limit > MIN_TEXT:
        limit = max(MIN_TEXT, limit // 2)
        card = _message_card(message, limit)
    return card


def message_attachment(message: Message) -> Card:
    return {"contentType": CARD_CONTENT_TYPE, "content": message_card(message)}


def message_activity(message: Message) -> Card:
    """A reply activity carrying the card. No `text`: Teams would show it above the card,
    saying everything twice; notifications show `summary` and screen readers read `speak`."""
    summary = spoken(message)
    return {
        "type": "message",
        "summary": summary,
        "speak": summary,
        "attachments": [message_attachment(message)],
    }


def plain_activity(text: str) -> Card:
    """A plain text reply; `textFormat: plain` so nobody's text turns into markup."""
    return {"type": "message", "text": cut(text, MAX_PLAIN), "textFormat": "plain"}


def spoken(message: Message) -> str:
    """The sentence read aloud: the summary, else the title with its status word."""
    if message.summary:
        return cut(message.summary, MAX_SUMMARY)
    head = f"{message.title} — {message.status}" if message.status else message.title
    return cut(head, MAX_SUMMARY)


def form_card(
    form: Form,
    *,
    values: Mapping[str, str] = _EMPTY,
    errors: Mapping[str, str] = _EMPTY,
    required_error: str = "",
) -> Card:
    """A form as card inputs, refilled with `values` and with each error under its input.

    Errors naming no input of the form show at the top. `required_error` (translated by the
    caller) is what Teams says when a required input is left empty before anything is sent.
    """
    names = _input_names(form)
    body = [_heading(form.title)]
    body.extend(_error_block(text) for name, text in errors.items() if name not in names)
    for field in form.inputs:
        value = values.get(field.name, field.initial)
        body.extend(_input_blocks(field, value, errors.get(field.name, ""), required_error))
    return _card(cut(form.title, MAX_SUMMARY), body, [_submit(form)])


def form_attachment(form: Form, required_error: str = "") -> Card:
    """A form as a message's card attachment (a form sent as a message of its own)."""
    return {
        "contentType": CARD_CONTENT_TYPE,
        "content": form_card(form, required_error=required_error),
    }


def inline_form(form: Form) -> Card:
    """A form as the card an `Action.ShowCard` opens under a message: the client draws it in
    place, so the message stays; its submit says so (`inline`), so the answer can redraw
    the message instead of replacing it with the outcome."""
    _input_names(form)
    body: list[Card] = []
    for field in form.inputs:
        body.extend(_input_blocks(field, field.initial, "", form.required_error))
    submit = _submit(form)
    submit["data"]["inline"] = True
    return {"type": "AdaptiveCard", "body": body, "actions": [submit]}


def _input_names(form: Form) -> set[str]:
    names = {i.name for i in form.inputs}
    clash = FORM_DATA_KEYS & names
    if clash:
        raise ValueError(f"Form '{form.form_id}' has inputs named {sorted(clash)}.")
    return names


def _submit(form: Form) -> Card:
    return {
        "type": "Action.Execute",
        "title": cut(form.submit_label, MAX_ACTION_TITLE),
        "verb": FORM_SUBMIT,
        "data": {"form": form.form_id, "context": form.context},
        "style": "positive",
    }


def card_from_invoke_value(value: object) -> tuple[str, dict[str, Any]]:
    """The verb and data of an `adaptiveCard/action` invoke's `value` (typed inputs included).

    Raises:
        ValueError: the value is not an `Action.Execute` with a verb and an object as data.
    """
    if not isinstance(value, Mapping):
        raise ValueError(f"Invoke value {_shown(value)} is not an object.")
    action = value.get("action")
    if not isinstance(action, Mapping):
        raise ValueError(f"Invoke value has no 'action' object: {_shown(action)}.")
    if action.get("type") != "Action.Execute":
        raise ValueError(f"Invoke action type {_shown(action.get('type'))} is not Action.Execute.")
    verb = action.get("verb")
    if not isinstance(verb, str) or not verb:
        raise ValueError(f"Invoke action verb {_shown(verb)} is not a non-empty string.")
    data = action.get("data")
    if data is None:
        return verb, {}
    if not isinstance(data, Mapping):
        raise ValueError(f"Invoke action data {_shown(data)} is not an object.")
    return verb, dict(data)


def invoke_card_response(card: Card) -> Card:
    """The invoke response that replaces the pressed card with `card`."""
    return {"statusCode": 200, "type": CARD_CONTENT_TYPE, "value": card}


def invoke_message_response(text: str) -> Card:
    """The invoke response that shows `text` to the presser only, leaving the card as it is."""
    return {"statusCode": 200, "type": MESSAGE_CONTENT_TYPE, "value": text}


def _message_card(message: Message, limit: int) -> Card:
    links, facts = message.links, message.facts
    actions = [_execute(a) for a in message.actions] + [_open_url(f) for f in links]
    body = [*_head(message), *fact_blocks(facts, limit), *_sections(message.sections, limit)]
    body.extend(_image(i) for i in message.images if i.url)  # a URL, or nothing to show
    if message.comment_label and message.actions:
        # Before the buttons (document order is tab order); Teams adds it to the press's data.
        body.append(_comment_input(message.comment_label))
    if len(actions) > MAX_ACTIONS:
        body.extend(_action_sets(actions))
        actions = []
    if message.footer:
        body.append(_text(cut(message.footer, limit), isSubtle=True, size="small"))
    return _card(spoken(message), body, actions)


def _card(speak: str, body: list[Card], actions: list[Card]) -> Card:
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "speak": speak,
        "body": body,
        "actions": actions,
    }


def _head(message: Message) -> Iterator[Card]:
    yield _heading(message.title)
    if message.status:
        yield _text(message.status, weight="bolder", color=TONE_COLORS[message.tone])


def _heading(title: str) -> Card:
    return _text(cut(title, MAX_TITLE), weight="bolder", size="medium", style="heading")


def fact_blocks(fields: Sequence[Field], limit: int) -> Iterator[Card]:
    """Short facts in FactSets; a longer value (a checksum, an archive's name) as its label
    and a wrapped TextBlock, in the same order: Teams mobile does not wrap a fact's value."""
    facts: list[Card] = []
    for f in fields:
        if len(f.value) <= MAX_FACT_VALUE:
            facts.append(
                {"title": escape(cut(f.label, MAX_LABEL)), "value": escape(cut(f.value, limit))}
            )
            continue
        if facts:
            yield {"type": "FactSet", "facts": facts}
            facts = []
        yield _text(cut(f.label, MAX_LABEL), weight="bolder")
        yield _text(cut(f.value, limit), spacing="none")
    if facts:
        yield {"type": "FactSet", "facts": facts}


def _sections(sections: Sequence[str], limit: int) -> Iterator[Card]:
    for section in sections:
        yield _text(cut(section, limit))


def _image(image: Image) -> Card:
    return {"type": "Image", "url": image.url, "altText": cut(image.alt_text, MAX_TOOLTIP)}


def _text(text: str, **style: object) -> Card:
    """A wrapped TextBlock of core text (escaped here, after any cut, so no escape is split)."""
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **style}


def _execute(action: Action) -> Card:
    if action.form is not None:
        # The form opens under the card, drawn by the client: nothing is replaced, and
        # pressing the button again folds it away (Teams' own Cancel).
        return {
            "type": "Action.ShowCard",
            "id": action.name,  # which action it is, as a press names it (one per card)
            "title": cut(action.label, MAX_ACTION_TITLE),
            "tooltip": cut(action.accessibility_label or action.label, MAX_TOOLTIP),
            "card": inline_form(action.form),
        }
    button: Card = {
        "type": "Action.Execute",
        "title": cut(action.label, MAX_ACTION_TITLE),
        "verb": action.name,
        "data": {"object": action.object_id, "version": action.version},
        "tooltip": cut(action.accessibility_label or action.label, MAX_TOOLTIP),
    }
    style = BUTTON_STYLES.get(action.style)
    if style:
        button["style"] = style
    return button


def _comment_input(label: str) -> Card:
    return {
        "type": "Input.Text",
        "id": COMMENT_INPUT,
        "label": cut(label, MAX_LABEL),
        "isMultiline": True,
        "maxLength": MAX_COMMENT,
    }


def _open_url(field: Field) -> Card:
    title = cut(field.label, MAX_ACTION_TITLE)
    return {"type": "Action.OpenUrl", "title": title, "url": field.value}


def _action_sets(actions: Sequence[Card]) -> Iterator[Card]:
    for start in range(0, len(actions), MAX_ACTIONS):
        yield {"type": "ActionSet", "actions": list(actions[start : start + MAX_ACTIONS])}


def _input_blocks(field: FormInput, value: str, error: str, required_error: str) -> Iterator[Card]:
    yield _input(field, value, error or (required_error if field.required else ""))
    if error:
        yield _error_block(error)
    if field.hint:
        yield _text(cut(field.hint, MAX_TEXT), isSubtle=True, size="small", spacing="none")


def _input(field: FormInput, value: str, error: str) -> Card:
    element: Card = {
        "id": field.name,
        "label": cut(field.label, MAX_LABEL),
        "isRequired": field.required,
    }
    if error:
        element["errorMessage"] = cut(error, MAX_TOOLTIP)
    if field.placeholder:
        element["placeholder"] = cut(field.placeholder, MAX_LABEL)
    if field.kind is InputKind.CHOICE:
        element.update(_choice_set(field, value))
    elif field.kind is InputKind.NUMBER:
        element.update(_number(value))
    else:
        element.update(_text_input(field, value))
    return element


def _choice_set(field: FormInput, value: str) -> Card:
    choices = [{"title": cut(c.label, MAX_LABEL), "value": c.value} for c in field.choices]
    element: Card = {"type": "Input.ChoiceSet", "style": "compact", "choices": choices}
    # A value outside the choices would show as an empty, unexplained selection.
    if value in {c.value for c in field.choices}:
        element["value"] = value
    return element


def _number(value: str) -> Card:
    element: Card = {"type": "Input.Number"}
    # The schema wants a number here; text that is none is left for the person to retype.
    number = whole_number(value.strip())
    if number is not None:
        element["value"] = number
    return element


def _text_input(field: FormInput, value: str) -> Card:
    element: Card = {"type": "Input.Text", "isMultiline": field.kind is InputKind.LONG_TEXT}
    if field.max_length:
        element["maxLength"] = field.max_length
    if value:
        element["value"] = value
    return element


def _error_block(text: str) -> Card:
    return _text(cut(text, MAX_TOOLTIP), color="attention", spacing="none")


def _utf16_size(card: Card) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode("utf-16-le"))


def _shown(value: object) -> str:
    return cut(repr(value), 80)
