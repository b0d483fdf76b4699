"""`Message` → Slack Block Kit, with the whole status in the top-level `text` (F1, F2).

Screen readers and notifications read `text`, not the blocks, so it always carries everything;
the emoji in the header only repeats the status word. Limits from Slack's Block Kit reference:
50 blocks, 150 characters in a header, 3,000 in a text object, 10 fields per section, 2,000
characters of button value, 75 of accessibility label.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from core.safety.text import cut
from core.views.message import Action, Field, Message, Tone

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_TEXT = 3000
MAX_FIELDS = 10
MAX_LABEL = 75
MAX_BUTTON_TEXT = 75

TONE_EMOJI = {
    Tone.SUCCESS: ":white_check_mark:",
    Tone.WARNING: ":warning:",
    Tone.DANGER: ":x:",
    Tone.INFO: ":information_source:",
    Tone.NEUTRAL: ":white_circle:",
}
BUTTON_STYLES = {Tone.SUCCESS: "primary", Tone.DANGER: "danger"}

Block = dict[str, Any]

# The start of an entity with its end cut off: escaped text (`&amp;`) must not end there.
_HALF_ENTITY = re.compile(r"&[a-z]{0,3}\Z")


def escape(text: str) -> str:
    """Slack's three control characters; user text must never become a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut_mrkdwn(escaped: str, limit: int) -> str:
    """Escaped text cut to `limit` characters, never inside an entity (`&l…` would show)."""
    if len(escaped) <= limit:
        return escaped
    return _HALF_ENTITY.sub("", escaped[: limit - 1]) + "…"


def mrkdwn_chunks(text: str, limit: int) -> Iterator[str]:
    """`text` escaped, in pieces of at most `limit` characters split at line ends where
    possible, and never inside an entity (the pieces would show `&a` and `mp;`)."""
    escaped = escape(text)
    while len(escaped) > limit:
        at = escaped.rfind("\n", 0, limit)
        if at <= 0:
            half = _HALF_ENTITY.search(escaped[:limit])
            at = half.start() if half else limit
        yield escaped[:at]
        escaped = escaped[at:].lstrip("\n")
    if escaped:
        yield escaped


def unescape(text: str) -> str:
    """What people typed: Slack sends `&`, `<`, `>` of typed text as entities."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def action_value(action: Action) -> str:
    """What a button carries back: the object and the version it was drawn for."""
    return action.press.value


def render(message: Message) -> dict[str, Any]:
    """A `chat.postMessage` / response payload (without channel): every Slack message the bot
    sends (acks, posts, updates, replies, ephemerals, DMs) is drawn here."""
    return {"text": fallback_text(message), "blocks": blocks(message)}


def fallback_text(message: Message) -> str:
    """The top-level `text`, escaped like the blocks: Slack parses it as mrkdwn too, so a typed
    `<!channel>` would ping everyone. A job's message leads with its spoken summary (F2)."""
    return escape(message.fallback)


def blocks(message: Message) -> list[Block]:
    """The message's blocks, at most 50: the buttons and the footer survive a cut."""
    drawn = list(_blocks(message))
    if len(drawn) > MAX_BLOCKS:
        drawn = drawn[: MAX_BLOCKS - 2] + drawn[-2:]
    return drawn


def home_view(message: Message) -> dict[str, Any]:
    """An App Home tab (`views.publish`)."""
    return {"type": "home", "blocks": blocks(message)}


def _blocks(message: Message) -> Iterator[Block]:
    yield from content_blocks(message, message.fields)
    if message.actions:
        yield {"type": "actions", "elements": [_button(a) for a in message.actions]}
    yield from footer_blocks(message)


def content_blocks(message: Message, fields: Sequence[Field]) -> Iterator[Block]:
    """What a message shows above its buttons: the title with its tone's emoji, the status in
    words, `fields` ten to a section, the sections and the images."""
    header = f"{TONE_EMOJI[message.tone]} {message.title}"
    yield {"type": "header", "text": plain(cut(header, MAX_HEADER))}
    if message.status:
        yield {"type": "section", "text": _mrkdwn(f"*{escape(message.status)}*")}
    drawn = [_mrkdwn(cut_mrkdwn(f"*{escape(f.label)}*\n{escape(f.value)}", 2000)) for f in fields]
    for start in range(0, len(drawn), MAX_FIELDS):
        yield {"type": "section", "fields": drawn[start : start + MAX_FIELDS]}
    for section in message.sections:
        for chunk in mrkdwn_chunks(section, MAX_TEXT):
            yield {"type": "section", "text": _mrkdwn(chunk)}
    for image in message.images:
        if image.url:  # one known only by its bytes cannot be shown here; the text says it
            yield {"type": "image", "image_url": image.url, "alt_text": image.alt_text}


def footer_blocks(message: Message) -> Iterator[Block]:
    if message.footer:
        footer = cut_mrkdwn(escape(message.footer), MAX_TEXT)
        yield {"type": "context", "elements": [_mrkdwn(footer)]}


def _button(action: Action) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action.name,
        "text": plain(cut(action.label, MAX_BUTTON_TEXT)),
        "value": action_value(action),
        "accessibility_label": cut(action.accessibility_label or action.label, MAX_LABEL),
    }
    style = BUTTON_STYLES.get(action.style)
    if style:
        button["style"] = style
    return button


def plain(text: str) -> Block:
    return {"type": "plain_text", "text": text, "emoji": True}


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}
