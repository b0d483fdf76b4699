"""Numbers that come from outside: a button's object and version, a form's context.

Only ASCII digits, at most 12 of them: `str.isdigit()` also accepts `²` and other scripts'
digits that `int()` refuses, and 4,300 digits or more make `int()` raise; 12 digits is more
than any id or version here will reach, and fits every integer column.
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"[0-9]{1,12}")


def number(text: str) -> int | None:
    """`"42"` → 42; None for anything else (signs, spaces, non-ASCII digits, 13+ digits)."""
    return int(text) if _NUMBER.fullmatch(text) else None
