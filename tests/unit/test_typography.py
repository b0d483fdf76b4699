"""French spacing before `: ; ? !` (core/i18n/typography.py), over generated templates and values.

The rule runs on catalog templates before parameters go in: people's values, URLs, times,
placeholders, backticks and commands keep every character; prose marks get U+202F.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.i18n import Translator
from core.i18n.typography import MARKS, NARROW_NBSP, NBSP, french_spacing

EXAMPLES = settings(max_examples=300, deadline=None)

letters = st.sampled_from("abcdeéèàùçôAÉZxyz")
words = st.text(letters, min_size=1, max_size=8)
marks = st.sampled_from(MARKS)
spaces = st.sampled_from([" ", NBSP])
# Anything a person or the system may put in a parameter: marks, spaces, controls, NUL.
values = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs", "Cc")), max_size=40
)

# Fragments that only look like punctuation and must come out exactly as they went in.
times = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))
urls = st.builds(
    lambda host, q: f"https://{host}.example.org/x?{q}=1&b=:c!",
    st.text("abcxyz", min_size=1, max_size=6),
    st.text("abq", min_size=1, max_size=4),
)
code = st.builds(lambda a, b: f"`{a} : {b} ? !`", words, words)
commands = st.builds(
    lambda verb, arg: f"{{prefix}}{verb} {arg} --note ?{arg} a:b !x",
    st.sampled_from(["run", "status", "schedule review #{draft}", "history"]),
    words,
)
glued = st.sampled_from(["a != b", "x :: y", "a ?b", "std::vector", "a !=b", "ratio:3"])
placeholders = st.sampled_from(["{target}", "{time:%H:%M}", "{value!r}", "{{literal}}"])
protected = st.one_of(times, urls, code, commands, glued, placeholders)
prose = st.builds(lambda w, s, m: f"{w}{s}{m}", words, spaces, marks)
pieces = st.lists(st.one_of(words, prose, protected, st.just(" "), st.just(". ")), max_size=12)
templates = pieces.map(" ".join)


@EXAMPLES
@given(templates)
def test_only_spaces_before_marks_change_and_only_into_narrow_ones(template: str) -> None:
    out = french_spacing(template)
    assert len(out) == len(template)
    for before, after, following in zip(template, out, out[1:] + " ", strict=False):
        if before != after:
            assert before in (" ", NBSP)
            assert after == NARROW_NBSP
            assert following in MARKS


@EXAMPLES
@given(templates)
def test_the_rule_is_idempotent(template: str) -> None:
    once = french_spacing(template)
    assert french_spacing(once) == once


@EXAMPLES
@given(words, spaces, marks, words)
def test_a_space_before_a_prose_mark_becomes_narrow(
    first: str, space: str, mark: str, then: str
) -> None:
    assert french_spacing(f"{first}{space}{mark} {then}") == f"{first}{NARROW_NBSP}{mark} {then}"
    assert french_spacing(f"{first}{space}{mark}") == f"{first}{NARROW_NBSP}{mark}"
    assert french_spacing(f"{first}{NARROW_NBSP}{mark}") == f"{first}{NARROW_NBSP}{mark}"
    assert french_spacing(f"({first}{space}{mark})") == f"({first}{NARROW_NBSP}{mark})"


@EXAMPLES
@given(st.lists(st.tuples(words, protected), min_size=1, max_size=5), marks)
def test_protected_fragments_come_out_as_they_went_in(
    parts: list[tuple[str, str]], mark: str
) -> None:
    template = " ".join(f"{word} {mark} {fragment}" for word, fragment in parts)
    out = french_spacing(template)
    cursor = 0
    for word, fragment in parts:
        expected = f"{word}{NARROW_NBSP}{mark} {fragment}"
        found = out.find(expected, cursor)
        assert found >= 0, (expected, out)
        cursor = found + len(expected)


@EXAMPLES
@given(values)
def test_values_put_in_a_french_text_are_never_touched(value: str) -> None:
    fr = Translator("fr")
    assert fr.t("error.usage", usage=value) == f"Usage{NARROW_NBSP}: {value}"
    assert fr.t("error.did_you_mean", suggestion=value) == (
        f"Vouliez-vous dire{NARROW_NBSP}: {value}{NARROW_NBSP}?"
    )
    assert fr.t("form.error.on_input", label=value, error=value) == (
        f"{value}{NARROW_NBSP}: {value}"
    )


@EXAMPLES
@given(values)
def test_english_texts_are_left_alone(value: str) -> None:
    assert Translator("en").t("error.usage", usage=value) == f"Usage: {value}"


def test_what_only_looks_like_punctuation_is_left_alone() -> None:
    for text in [
        "à 02:00.",
        "http://x.example.org/?a=1",
        "a :: b",
        "a != b",
        "{time:%H:%M}",
        "`role grant : ?`",
        "Suivi : {prefix}status #{job} --since 12:30",
    ]:
        out = french_spacing(text)
        assert out.replace(NARROW_NBSP, " ") == text
    assert (
        french_spacing("Suivi : {prefix}status #{job}")
        == f"Suivi{NARROW_NBSP}: {{prefix}}status #{{job}}"
    )
    assert french_spacing("voir http://x.org/a?b ?") == f"voir http://x.org/a?b{NARROW_NBSP}?"
    # a mark standing alone after a command is the sentence's, not the command's
    assert french_spacing("Tapez {prefix}help !") == f"Tapez {{prefix}}help{NARROW_NBSP}!"
    assert french_spacing("Quoi ?!") == f"Quoi{NARROW_NBSP}?!"
