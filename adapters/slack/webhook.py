"""`Message` → the body of a Slack incoming webhook (A5).

A webhook cannot receive a click, so the message's actions (buttons that need a bot) are left
out; fields whose value is a link (the signed job page, the runbook) become link buttons. The
blocks are the chat renderer's (`render.py`) with those link buttons in place of its action
buttons, and the top-level `text` carries the whole status (F1, F2).
"""

from __future__ import annotations

from collections.abc import Iterator

from adapters.slack.render import (
    MAX_BLOCKS,
    MAX_LABEL,
    Block,
    content_blocks,
    cut_mrkdwn,
    fallback_text,
    footer_blocks,
    plain,
)
from core.safety.text import cut
from core.views.message import Field, Message

MAX_FALLBACK = 40000
MAX_ELEMENTS = 25
MAX_URL = 3000


def slack_payload(message: Message) -> Block:
    """Top-level `text` carries everything (screen readers and notifications read it)."""
    return {
        "text": cut_mrkdwn(fallback_text(message), MAX_FALLBACK),
        "blocks": _cap_blocks(list(_blocks(message))),
    }


def _blocks(message: Message) -> Iterator[Block]:
    # What a chat message shows, but the links drawn as buttons (a webhook has no bot to
    # answer the others).
    yield from content_blocks(message, message.facts)
    buttons = [_link_button(i, f, message) for i, f in enumerate(message.links)]
    for start in range(0, len(buttons), MAX_ELEMENTS):
        yield {"type": "actions", "elements": buttons[start : start + MAX_ELEMENTS]}
    yield from footer_blocks(message)


def _link_button(index: int, link: Field, message: Message) -> Block:
    # A button with `url` just opens the page; no bot has to answer it.
    return {
        "type": "button",
        "action_id": f"link-{index}",
        "text": plain(cut(link.label, MAX_LABEL)),
        "url": link.value[:MAX_URL],
        "accessibility_label": cut(f"{link.label}: {message.title}", MAX_LABEL),
    }


def _cap_blocks(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks: the links and the footer survive a cut."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    tail = [b for b in blocks[-2:] if b["type"] in ("actions", "context")]
    return blocks[: MAX_BLOCKS - len(tail)] + tail
