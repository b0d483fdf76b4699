"""Fitting text into the limits platforms put on it (header lengths, block sizes)."""

from __future__ import annotations

from collections.abc import Iterator


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
