"""What a number is when it comes from outside (typed words, button values, link queries).

One to twelve ASCII digits, nothing else: `str.isdigit()` also accepts '²' and '٣', which
`int()` then refuses or reads, and `int()` alone accepts '+5', '1_0', ' 7 ' and refuses
more than 4,300 digits with a ValueError nobody expects. Twelve digits are more jobs,
drafts and seconds than this bot will ever count.
"""

from __future__ import annotations

import re

NUMBER = re.compile(r"[0-9]{1,12}")


def whole_number(text: str) -> int | None:
    """`text` as a non-negative int when it is 1-12 ASCII digits; None otherwise."""
    return int(text) if NUMBER.fullmatch(text) else None


# The largest id a row can have: ids are INTEGER columns, 32 bits on PostgreSQL. A larger
# number names no record, and would reach the database only to be refused there.
MAX_ID = 2**31 - 1


def record_id(text: str) -> int | None:
    """`text` as the id of a job, draft or delivery (1 to MAX_ID); None otherwise."""
    number = whole_number(text)
    return number if number is not None and 1 <= number <= MAX_ID else None
