"""`Message` → plain text for a terminal. The status is already a word; nothing else needed."""

from __future__ import annotations

from core.messages import Message


def render(message: Message) -> str:
    return message.text
