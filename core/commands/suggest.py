"""Did-you-mean for anything people type: verbs, targets, options, alert kinds."""

from __future__ import annotations

import difflib


def suggest(word: str, candidates: list[str]) -> str:
    """The closest candidate to `word`, or "" when nothing is close."""
    matches = difflib.get_close_matches(word.lower(), candidates, n=1, cutoff=0.6)
    return matches[0] if matches else ""
