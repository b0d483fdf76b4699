"""Text from outside made safe to keep (`clean`), and fitted into the limits platforms put
on it (header lengths, block sizes)."""

from __future__ import annotations

import re
from collections.abc import Iterator

# Characters that change how text reads without being seen: C0 and C1 controls (NUL, ESC…),
# and the bidirectional and invisible format characters that can reverse or hide what follows
# (U+202E made "gnp.exe" read "exe.png"). ZWJ and ZWNJ stay: emoji and scripts need them.
_UNSEEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff]"
)
REPLACEMENT = "\ufffd"
# NUL (PostgreSQL refuses it in text), the other C0 controls and DEL: never meant as text.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
_CONTROLS_AND_LINE_BREAKS = re.compile("[\x00-\x1f\x7f]")
# Half of a surrogate pair with no other half: no UTF-8 encoder (database, JSON) takes it.
_LONE_SURROGATES = re.compile("[\ud800-\udfff]")


def clean(text: str, *, multiline: bool = True) -> str:
    """`text` without NUL and other control characters, and with each lone surrogate
    replaced by U+FFFD, so every database and platform accepts it. Tabs and line breaks
    stay in multi-line text (a note); elsewhere (a name) they become a space."""
    text = _LONE_SURROGATES.sub(REPLACEMENT, text)
    if multiline:
        return _CONTROLS.sub("", text)
    return _CONTROLS_AND_LINE_BREAKS.sub(_space_for_break, text)


def _space_for_break(match: re.Match[str]) -> str:
    return " " if match.group() in "\t\n" else ""


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, an ellipsis saying something was left out."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chunks(text: str, limit: int) -> Iterator[str]:
    """Pieces of at most `limit` characters, split at line ends where possible so a long
    list stays readable."""
    while len(text) > limit:
        at = text.rfind("\n", 0, limit)
        at = at if at > 0 else limit
        yield text[:at]
        text = text[at:].lstrip("\n")
    if text:
        yield text


def has_words(text: str) -> bool:
    """Whether `text` holds something a reader sees: not only whitespace, controls, and
    zero-width or bidirectional marks (a note of those would show empty)."""
    return bool(_UNSEEN.sub("", text).strip())


def visible(text: str) -> str:
    """Text safe to show as it reads: line breaks normalised to `\\n`, and every control,
    bidirectional or invisible format character (tabs and line breaks aside) replaced by
    U+FFFD, so the reader sees that something was there and nothing is reordered."""
    return _UNSEEN.sub(REPLACEMENT, text.replace("\r\n", "\n"))
