"""A verified Slack request's body, read once and checked before Bolt sees it.

Slack posts three shapes to one URL: slash commands as form fields, interactivity as one
form field `payload` holding JSON, and the Events API as JSON. Bolt guesses the shape from
the text (the word "payload" anywhere in a slash command's text turns it into an empty
request, answered 404) and its listeners index whatever arrives (`user: "x"` ends in a 500).
Here the shape follows the content type and the form's fields, each field Slack documents
must have its documented type, and anything else is a `MalformedPayload` (a 400).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeAlias
from urllib.parse import parse_qsl

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
MAX_FORM_FIELDS = 100  # a slash command has about 15

# What a field must be where present (null is always allowed: listeners read with `or`).
# A dict nests, `ANY_KEY` stands for every key of a mapping, a one-item list is a list of
# that, a tuple is a choice.
Shape: TypeAlias = type | tuple[Any, ...] | dict[str, Any] | list[Any]
ANY_KEY = "*"
_FLAG = (bool, str)  # Slack sends both true and "true"
_USER = {"id": str, "name": str, "username": str, "team_id": str}
_TEAM = {"id": str, "domain": str, "enterprise_id": str}
_MESSAGE = {"type": str, "ts": str, "thread_ts": str, "text": str, "bot_id": str, "user": str}
_ELEMENT = {"type": str, "value": str, "selected_option": {"value": str}}
_EVENT = {
    "type": str,
    "subtype": str,
    "user": str,
    "text": str,
    "channel": str,
    "channel_type": str,
    "ts": str,
    "thread_ts": str,
    "event_ts": str,
    "team": str,
    "user_team": str,
    "tab": str,
    "bot_id": str,
    "message": _MESSAGE,
    "previous_message": _MESSAGE,
}
PAYLOAD: dict[str, Shape] = {
    "type": str,
    "token": str,
    "api_app_id": str,
    "team_id": str,
    "enterprise_id": str,
    "user_id": str,
    "user_name": str,
    "channel_id": str,
    "command": str,
    "text": str,
    "response_url": str,
    "trigger_id": str,
    "callback_id": str,
    "action_ts": str,
    "event_id": str,
    "challenge": str,
    "ssl_check": str,
    "is_enterprise_install": _FLAG,
    "is_ext_shared_channel": _FLAG,
    "team": _TEAM,
    "enterprise": (str, {"id": str}),
    "user": _USER,
    "channel": {"id": str, "name": str},
    "container": {"type": str, "message_ts": str, "channel_id": str, "thread_ts": str},
    "message": _MESSAGE,
    "actions": [{"type": str, "action_id": str, "block_id": str, "value": str}],
    "view": {
        "id": str,
        "team_id": str,
        "app_installed_team_id": str,
        "type": str,
        "callback_id": str,
        "private_metadata": str,
        "state": {"values": {ANY_KEY: {ANY_KEY: _ELEMENT}}},
    },
    "event": _EVENT,
    "authorizations": [
        {"team_id": str, "user_id": str, "enterprise_id": str, "is_enterprise_install": _FLAG}
    ],
    "response_urls": [{"response_url": str}],
}


# Bolt's listener matchers index these whole (`body["view"]["callback_id"]`): where a
# payload of that type has them, they must be there, and none of them may be null.
REQUIRED = {
    "block_actions": ("actions",),
    "view_submission": ("view",),
    "view_closed": ("view",),
    "event_callback": ("event",),
}
MATCHED = frozenset({"type", "command", "callback_id", "action_id", "subtype"})


class MalformedPayload(ValueError):
    """A signed request whose body is not a Slack payload; the message says what is wrong."""


def read_payload(body: bytes, content_type: str) -> dict[str, Any]:
    """The payload a verified request carries, as Slack documents it.

    Raises:
        MalformedPayload: not UTF-8, not the content type's syntax, not an object, or a
            documented field of another type.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("the body is not UTF-8") from None
    if content_type == JSON:
        payload = _json(text)
    elif content_type == FORM:
        try:
            fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS))
        except ValueError:
            raise MalformedPayload("too many form fields") from None
        payload = _json(fields["payload"]) if "payload" in fields else fields
    else:
        raise MalformedPayload(f"unexpected content type {content_type!r}")
    if not isinstance(payload, dict):
        raise MalformedPayload("the payload is not an object")
    _check(payload, PAYLOAD, "payload")
    kind = payload.get("type")
    for key in REQUIRED.get(kind, ()) if isinstance(kind, str) else ():
        if not payload.get(key):
            raise MalformedPayload(f"a {kind} payload without {key}")
    if kind == "block_actions" and not all("action_id" in a for a in payload["actions"]):
        raise MalformedPayload("a button press without its action_id")
    if kind in ("view_submission", "view_closed") and "callback_id" not in payload["view"]:
        raise MalformedPayload("a view without its callback_id")
    return payload


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: thousands of nested brackets
        raise MalformedPayload("the payload is not JSON") from None


def _check(value: Any, shape: Shape, where: str) -> None:
    if value is None:
        return
    if isinstance(shape, tuple):
        for choice in shape:
            if _fits(value, choice):
                _check(value, choice, where)
                return
        raise MalformedPayload(f"{where} has the wrong type")
    if not _fits(value, shape):
        raise MalformedPayload(f"{where} has the wrong type")
    if isinstance(shape, dict):
        for key, inner in shape.items():
            if key == ANY_KEY:
                for name, item in value.items():
                    _check(item, inner, f"{where}.{name}")
            elif key in value:
                if key in MATCHED and value[key] is None:
                    raise MalformedPayload(f"{where}.{key} is null")
                _check(value[key], inner, f"{where}.{key}")
    elif isinstance(shape, list):
        for index, item in enumerate(value):
            if item is None:  # Bolt reads the first item whole: a list holds no gaps
                raise MalformedPayload(f"{where}[{index}] is null")
            _check(item, shape[0], f"{where}[{index}]")


def _fits(value: Any, shape: Shape) -> bool:
    """The outer type only; `_check` goes inside."""
    if isinstance(shape, dict):
        return isinstance(value, Mapping)
    if isinstance(shape, list):
        return isinstance(value, list)
    return isinstance(value, shape)
