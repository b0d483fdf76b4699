"""`Message` → plain text for a terminal. The status is already a word; what remains is to keep
control characters from job output or names (colour codes, screen clears, a title-setting
escape, bidi overrides) from acting on the terminal: `visible` shows each as U+FFFD."""

from __future__ import annotations

from core.safety.text import visible
from core.views.message import Message


def render(message: Message) -> str:
    return visible(message.text)
