"""Text shown on pages (`core.safety.text.visible`): nothing unseen reorders or hides the rest."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from core.safety.text import REPLACEMENT, visible

BIDI_AND_INVISIBLE = (
    "\u061c\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def test_line_breaks_tabs_emoji_and_scripts_are_kept() -> None:
    assert visible("a\tb\r\nc\nd") == "a\tb\nc\nd"
    family = "👨\u200d👩\u200d👧"  # ZWJ joins the emoji
    assert visible(family) == family
    assert visible("می\u200cخواهم") == "می\u200cخواهم"  # ZWNJ is part of Persian spelling


def test_controls_and_bidi_overrides_become_a_visible_mark() -> None:
    assert visible("Eve\u202egnp.exe") == f"Eve{REPLACEMENT}gnp.exe"
    assert visible("a\x00b\x1b[31mc\x85") == f"a{REPLACEMENT}b{REPLACEMENT}[31mc{REPLACEMENT}"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(BIDI_AND_INVISIBLE)))
def test_no_control_or_bidi_character_survives_and_nothing_else_changes(text: str) -> None:
    shown = visible(text)
    for ch in shown:
        assert ch in "\t\n" or unicodedata.category(ch) != "Cc", repr(ch)
        assert ch not in BIDI_AND_INVISIBLE, repr(ch)
    original = text.replace("\r\n", "\n")
    assert len(shown) == len(original)  # replaced one for one: nothing silently dropped
    assert all(a in (b, REPLACEMENT) for a, b in zip(shown, original, strict=True))
