"""Dates and times typed in a command (`--since 2026-11-01`, `--until 2026-11-30T18:00`).

A bare date is midnight UTC; as an end (`--until`) it includes its whole day, as the CLI's
`audit export` reads it. A date-time without an offset is UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.+\-Z]{2,32}")


@dataclass(frozen=True)
class Moment:
    at: datetime  # aware UTC
    whole_day: bool  # typed as a bare date

    @property
    def end(self) -> datetime:
        """As the end of a period (excluded): a bare date runs to the next midnight."""
        if not self.whole_day:
            return self.at
        try:
            return self.at + timedelta(days=1)
        except OverflowError:  # 9999-12-31: the end of time is close enough
            return datetime.max.replace(tzinfo=UTC)


def parse_moment(text: str) -> Moment | None:
    """`YYYY-MM-DD` or an ISO 8601 date-time (ASCII digits only); None for anything else."""
    text = text.strip()
    whole_day = _DATE.fullmatch(text) is not None
    if not whole_day and _DATE_TIME.fullmatch(text) is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return Moment(moment.astimezone(UTC), whole_day)
    except OverflowError:
        return None
