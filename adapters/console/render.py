"""`Message` → plain text for a terminal. The status is already a word; what remains is to keep
control characters from job output or names (colour codes, screen clears, a title-setting
escape, bidi overrides) from acting on the terminal: `visible` shows each as U+FFFD."""

from __future__ import annotations

from core.messages import Message
from core.text import visible


def render(message: Message) -> str:
    return visible(message.text)
