"""Numbers, sizes, durations and moments as people read them, per locale (Babel's CLDR data).

Only for what people read in chat and on pages: exports, API bodies, logs, audit files and
manifests keep their machine formats (ISO 8601, plain digits) and never come here.

English groups digits with a comma (`40,000`), French with U+202F (`40 000`); sizes are
decimal with the locale's unit letters (`1.2 GB`, `1,2 Go`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberPattern, parse_pattern

# Decimal units (1 kB = 1000 B), as each language writes them.
_BYTE_UNITS: dict[str, tuple[str, ...]] = {
    "en": ("B", "kB", "MB", "GB", "TB"),
    "fr": ("o", "ko", "Mo", "Go", "To"),
}
_WHOLE = "#,##0"
_ONE_DECIMAL = "#,##0.0"
EMPTY = "—"


def _locale(locale: str) -> str:
    return locale if locale in _BYTE_UNITS else "en"


# Parsing a locale and a pattern costs more than formatting with them: replies format often.
@cache
def _babel_locale(locale: str) -> Locale:
    return Locale.parse(_locale(locale))


@cache
def _pattern(pattern: str) -> NumberPattern:
    return parse_pattern(pattern)


def _format(value: float, pattern: str, locale: str) -> str:
    return str(_pattern(pattern).apply(value, _babel_locale(locale)))


def number(value: int, locale: str) -> str:
    """A whole number with the locale's digit grouping: `40,000`, `40 000` (U+202F)."""
    return _format(value, _WHOLE, locale)


def decimal(value: float, locale: str) -> str:
    """A number with one decimal: `2.5`, `2,5`; grouped like `number`."""
    return _format(value, _ONE_DECIMAL, locale)


def plural_category(count: float, locale: str) -> str:
    """CLDR's plural category of `count` (`one`, `many`, `other`), as Babel knows it."""
    return str(_babel_locale(locale).plural_form(count))


def byte_units(locale: str) -> tuple[str, ...]:
    """The locale's decimal byte units, smallest first: `B, kB, MB…`, `o, ko, Mo…`."""
    return _BYTE_UNITS[_locale(locale)]


def size(size: int | None, locale: str) -> str:
    """Bytes in decimal units: `999 B`, `1.5 MB`, `1,5 Mo`; `—` when unknown."""
    if size is None:
        return EMPTY
    units = byte_units(locale)
    value = float(size)
    for unit in units:
        # compared once rounded as shown: 999,960 B is "1.0 MB", not "1,000.0 kB"
        if round(value, 0 if unit == units[0] else 1) < 1000 or unit == units[-1]:
            shown = number(round(value), locale) if unit == units[0] else decimal(value, locale)
            return f"{shown} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def duration(delta: timedelta | None, locale: str) -> str:
    """`2.3 s` (`2,3 s`), `2 min 5 s`, `3 h 10 min`; `—` when unknown."""
    if delta is None:
        return EMPTY
    seconds = delta.total_seconds()
    if seconds < 60:
        return f"{decimal(seconds, locale)} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{number(hours, locale)} h {minutes} min"


def timestamp(moment: datetime | None, locale: str) -> str:
    """A UTC moment people compare at a glance: `2026-01-05 09:00:03 UTC` in every language.

    The style stays the one every message used before Babel (sortable, the logs' order); the
    locale is taken so that a language with other needs can have them here, in one place.
    """
    del locale
    if moment is None:
        return EMPTY
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def minute(moment: datetime) -> str:
    """A moment to the minute, in its own time zone: `2026-01-05 02:00 CET` (next runs)."""
    return moment.strftime("%Y-%m-%d %H:%M %Z")


def day(value: date, locale: str) -> str:
    """A day in words: `Dec 4, 2026`, `4 déc. 2026` (CLDR's medium date)."""
    return format_date(value, format="medium", locale=_babel_locale(locale))
