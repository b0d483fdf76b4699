"""The message catalog (F4): every user-visible string, in English and French.

`Translator(locale).t(key, **params)` formats a template; a missing key falls back to English,
and a missing parameter never raises (it shows as `{name}`) so a reply is always produced.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from core.i18n import en, fr

CATALOGS: dict[str, dict[str, str]] = {"en": en.MESSAGES, "fr": fr.MESSAGES}
DEFAULT_LOCALE = "en"


def resolve_locale(locale: str | None) -> str:
    """`fr-FR`, `fr_CA`, `FR` → `fr`; anything unknown → `en`."""
    if not locale:
        return DEFAULT_LOCALE
    language = locale.replace("_", "-").split("-")[0].lower()
    return language if language in CATALOGS else DEFAULT_LOCALE


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Translator:
    def __init__(self, locale: str | None = None) -> None:
        self.locale = resolve_locale(locale)
        self._catalog = CATALOGS[self.locale]

    def t(self, key: str, **params: Any) -> str:
        template = self._catalog.get(key) or en.MESSAGES.get(key) or key
        return template.format_map(_Lenient(params))

    def has(self, key: str) -> bool:
        return key in self._catalog

    def size(self, size: int | None) -> str:
        """Bytes in decimal units, with the locale's decimal mark (`1.5 MB`, `1,5 Mo`)."""
        if size is None:
            return "—"
        units = self.t("unit.bytes").split(",")
        value = float(size)
        for unit in units:
            if value < 1000 or unit == units[-1]:
                text = f"{value:.0f}" if unit == units[0] else f"{value:.1f}"
                return f"{self._decimal(text)} {unit}"
            value /= 1000
        raise AssertionError("unreachable")

    def duration(self, delta: timedelta | None) -> str:
        if delta is None:
            return "—"
        seconds = delta.total_seconds()
        if seconds < 60:
            return self._decimal(f"{seconds:.1f}") + " s"
        minutes, secs = divmod(round(seconds), 60)
        if minutes < 60:
            return f"{minutes} min {secs} s"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes} min"

    def time(self, moment: datetime | None) -> str:
        """A UTC timestamp people can read and compare: `2026-01-05 09:00:03 UTC`."""
        if moment is None:
            return "—"
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")

    def _decimal(self, text: str) -> str:
        return text.replace(".", self.t("unit.decimal_mark"))
