"""French spacing before `: ; ? !`, applied to catalog *templates* before parameters go in.

French puts a narrow no-break space (U+202F) before the high punctuation marks, so a line never
breaks between a word and its colon or question mark. The catalog is written with plain spaces
(five people add keys at once); `french_spacing` turns the space into U+202F when the mark is
punctuation, and leaves alone what only looks like it:

- what the user or the system fills in: the rule runs on the template, so a target name, a URL,
  a time like 12:30 or a `--since` value passed as a parameter is never seen;
- placeholders themselves (`{time:%H:%M}`), text in backticks, URLs (`http://…?a=1`);
- a command: from `{prefix}`, `/export` or `exportbot <word>` on, the command's own words (the
  run stops at a mark standing alone, which the grammar never uses: that one is the sentence's);
- a mark glued to the next character (`12:30`, `::`, `!=`, `?x`): punctuation is followed by a
  space, the end of the text, a closing bracket or quote, or another `?`/`!` (`?!`).
"""

from __future__ import annotations

import re
from functools import lru_cache

NARROW_NBSP = "\u202f"
NBSP = "\u00a0"
MARKS = ":;?!"

# What follows a mark that is punctuation: the end, a space, a closing bracket or quote, `?!`.
_AFTER = r"(?=$|[\s)\]»\"'’.,…?!])"
# A plain or no-break space, then a mark that is punctuation.
_SPACED_MARK = re.compile(rf"[ {NBSP}]([{re.escape(MARKS)}]){_AFTER}")
# Spans never touched: placeholders (with `{{`/`}}` escapes), backticks, URLs, commands. A
# command runs over its words and stops before a mark standing alone (the sentence's own).
_PROTECTED = re.compile(
    rf"""
      \{{\{{ | \}}\}}
    | \{{[^{{}}]*\}}
    | `[^`]*`
    | [A-Za-z][A-Za-z0-9+.\-]*://\S*
    | (?: \{{prefix\}} | /export | \bexportbot[ ](?=[a-z]) )
      \S* (?: [ ] (?! [{re.escape(MARKS)}] {_AFTER} ) \S+ )*
    """,
    re.VERBOSE,
)


def _protected_spans(template: str) -> list[tuple[int, int]]:
    return [m.span() for m in _PROTECTED.finditer(template)]


def _is_protected(spans: list[tuple[int, int]], index: int) -> bool:
    return any(start <= index < end for start, end in spans)


def _punctuation_spaces(text: str) -> list[int]:
    """Where a space before a punctuation mark stands, outside the protected spans."""
    spans = _protected_spans(text)
    return [
        m.start()
        for m in _SPACED_MARK.finditer(text)
        if not _is_protected(spans, m.start()) and not _is_protected(spans, m.start() + 1)
    ]


@lru_cache(maxsize=8192)
def french_spacing(template: str) -> str:
    """The template with U+202F before each `: ; ? !` that is punctuation (see the module)."""
    chars = list(template)
    for index in _punctuation_spaces(template):
        chars[index] = NARROW_NBSP
    return "".join(chars)
