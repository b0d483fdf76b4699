"""The message catalog (F4): every user-visible string, in English and French.

`Translator(locale).t(key, **params)` formats a template; a missing key falls back to English,
and a missing parameter never raises (it shows as `{name}`) so a reply is always produced.

A key that counts things holds its plural forms, `{"one": ..., "other": ...}` (CLDR's
categories, Babel's rules per locale; a category the entry lacks falls back to `other`). The
`count` parameter picks the form and, when it is a whole number, is written with the locale's
digit grouping (`40,000`, `40 000`). French templates get the narrow no-break space before
`: ; ? !` (`typography.py`) before the parameters go in, so people's values are never touched.
Numbers, sizes, durations and moments go through `formats.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from core.i18n import en, formats, fr
from core.i18n.typography import french_spacing

Entry = str | Mapping[str, str]
CATALOGS: dict[str, Mapping[str, Entry]] = {"en": en.MESSAGES, "fr": fr.MESSAGES}
DEFAULT_LOCALE = "en"
PLURAL_PARAM = "count"
# The rules a locale's templates go through before their parameters are put in.
TYPOGRAPHY: dict[str, Callable[[str], str]] = {"fr": french_spacing}


def resolve_locale(locale: str | None) -> str:
    """`fr-FR`, `fr_CA`, `FR` → `fr`; anything unknown → `en`."""
    if not locale:
        return DEFAULT_LOCALE
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in CATALOGS else DEFAULT_LOCALE


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def plural_form(entry: Mapping[str, str], count: object, locale: str) -> str:
    """The form of a plural entry for `count` (`other` when `count` is not a number)."""
    if isinstance(count, int | float) and not isinstance(count, bool):
        form = entry.get(formats.plural_category(abs(count), locale))
        if form is not None:
            return form
    return entry["other"]


class Translator:
    def __init__(self, locale: str | None = None) -> None:
        self.locale = resolve_locale(locale)
        self._catalog = CATALOGS[self.locale]
        self._typography = TYPOGRAPHY.get(self.locale)

    def t(self, key: str, **params: Any) -> str:
        entry = self._catalog.get(key) or en.MESSAGES.get(key) or key
        locale = self.locale if key in self._catalog else DEFAULT_LOCALE
        count = params.get(PLURAL_PARAM)
        template = entry if isinstance(entry, str) else plural_form(entry, count, locale)
        if self._typography is not None and locale == self.locale:
            template = self._typography(template)
        if isinstance(count, int) and not isinstance(count, bool):
            params[PLURAL_PARAM] = formats.number(count, self.locale)
        return template.format_map(_Lenient(params))

    def has(self, key: str) -> bool:
        return key in self._catalog

    def number(self, value: int) -> str:
        """A whole number with the locale's digit grouping (`40,000`, `40 000`)."""
        return formats.number(value, self.locale)

    def decimal(self, value: float) -> str:
        """A number with one decimal, in the locale's writing (`2.5`, `2,5`)."""
        return formats.decimal(value, self.locale)

    def size(self, size: int | None) -> str:
        """Bytes in decimal units, with the locale's decimal mark (`1.5 MB`, `1,5 Mo`)."""
        return formats.size(size, self.locale)

    def byte_units(self) -> tuple[str, ...]:
        return formats.byte_units(self.locale)

    def duration(self, delta: timedelta | None) -> str:
        return formats.duration(delta, self.locale)

    def time(self, moment: datetime | None) -> str:
        """A UTC timestamp people can read and compare: `2026-01-05 09:00:03 UTC`."""
        return formats.timestamp(moment, self.locale)

    def minute(self, moment: datetime) -> str:
        """A moment to the minute in its own zone: `2026-01-05 02:00 CET` (next runs)."""
        return formats.minute(moment)

    def day(self, value: date) -> str:
        """A day in words: `Dec 4, 2026`, `4 déc. 2026`."""
        return formats.day(value, self.locale)
