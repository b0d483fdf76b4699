"""Cron expressions: validation, words (cron-descriptor) and DST-correct next runs (cronsim).

cronsim, not croniter: on the autumn DST change croniter fires a 02:30 job twice, cronsim once,
as Vixie cron does.
"""

from __future__ import annotations

from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cron_descriptor import ExpressionDescriptor, Options
from cronsim import CronSim, CronSimError

from core.errors import InvalidCommand

_DESCRIPTOR_LOCALES = {"en": "en_US", "fr": "fr_FR"}


def zone(name: str) -> ZoneInfo:
    """The IANA time zone `name`; an InvalidCommand naming it otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidCommand("error.bad_timezone", zone=name) from None


def validate(expression: str) -> str:
    """The expression, normalised to single spaces; an InvalidCommand naming it otherwise."""
    normalized = " ".join(expression.split())
    if len(normalized.split()) != 5:
        raise InvalidCommand("error.bad_cron", cron=expression, reason="5 fields expected")
    try:
        CronSim(normalized, datetime(2026, 1, 1))
    except CronSimError as error:
        raise InvalidCommand("error.bad_cron", cron=expression, reason=str(error)) from None
    return normalized


def next_runs(expression: str, timezone: str, after: datetime, count: int = 3) -> list[datetime]:
    """The next `count` fire times after `after`, aware, in `timezone`."""
    local = after.astimezone(zone(timezone))
    return list(islice(CronSim(expression, local), count))


def describe(expression: str, locale: str) -> str:
    """`0 2 * * *` → `At 02:00` (24-hour clock, in the reader's language)."""
    options = Options()
    options.use_24hour_time_format = True
    options.locale_code = _DESCRIPTOR_LOCALES.get(locale, "en_US")
    try:
        return str(ExpressionDescriptor(expression, options).get_description())
    except Exception:  # a description is a courtesy; the expression itself is always shown
        return expression
