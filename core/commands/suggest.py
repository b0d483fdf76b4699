"""Did-you-mean for anything people type: verbs, targets, options, alert kinds."""

from __future__ import annotations

import difflib


def suggest(word: str, candidates: list[str]) -> str:
    """The closest candidate to `word`, or "" when nothing is close."""
    typed = word.lower()
    matches = difflib.get_close_matches(typed, candidates, n=3, cutoff=0.6)
    # Two letters swapped is the commonest slip: `stauts` means `status`, though `stats`
    # shares more letters in a row with it.
    swapped = [m for m in matches if sorted(m.lower()) == sorted(typed)]
    return (swapped or matches or [""])[0]
