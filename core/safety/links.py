"""Signed, expiring links to pages and downloads (G4): `…/jobs/12?expires=…&sig=…`.

The signature is an HMAC-SHA256 of the path and the expiry, so a link cannot be bent to
another job or kept alive past its time; verification is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

from core.commands.numbers import whole_number


def signature(secret: bytes, path: str, expires: int) -> str:
    return hmac.new(secret, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def signed_url(base_url: str, path: str, secret: bytes, now: datetime, ttl: timedelta) -> str:
    expires = int((now + ttl).timestamp())
    query = urlencode({"expires": expires, "sig": signature(secret, path, expires)})
    return f"{base_url.rstrip('/')}{path}?{query}"


def verify(secret: bytes, path: str, expires: str, sig: str, now: datetime) -> bool:
    """True for an unexpired link signed with `secret` for exactly `path`; False for any
    other text a stranger puts in the query (compared as bytes: any text is comparable)."""
    seconds = whole_number(expires)
    if seconds is None or seconds < now.timestamp():
        return False
    expected = signature(secret, path, seconds).encode()
    return hmac.compare_digest(expected, sig.encode("utf-8", "surrogateescape"))


def job_path(job_id: int) -> str:
    return f"/jobs/{job_id}"


def fetchable(base_url: str) -> bool:
    """Whether a platform's servers could fetch an image from `base_url`: not this machine's
    loopback (the default public URL). Slack refuses a whole message whose image it cannot
    download, so an image there is left out, and its description stays in the text."""
    host = (urlsplit(base_url).hostname or "").lower()
    return bool(host) and host != "localhost" and not _loopback(host)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.endswith(".localhost")


def chart_path(target: str, days: int) -> str:
    """A target's `stats` chart over `days` days (C6); the days are in the signed path, so a
    link cannot be bent to another window."""
    return f"/charts/{target}/{days}.png"


def export_path(export_id: str) -> str:
    return f"/exports/{export_id}"


PAGE_LOCALES = ("en", "fr")


def history_path(target: str) -> str:
    """A target's history page (F3)."""
    return f"/targets/{target}/history"


def review_path(draft_id: int) -> str:
    """A schedule draft's review page, with its diff against the active schedule (F3)."""
    return f"/drafts/{draft_id}/review"


def page_signed(path: str, locale: str) -> str:
    """What a page link signs: its path and its language, so a French link cannot be bent
    into another page, nor its language changed without the key."""
    return f"{path}?lang={locale}"


@dataclass(frozen=True)
class PageLinks:
    """Signs the web pages' links (F3, G4) that chat messages carry, in the reader's language."""

    base_url: str
    secret: bytes
    ttl: timedelta

    def url(self, path: str, locale: str, now: datetime) -> str:
        """`<base>/jobs/12?expires=…&sig=…&lang=fr`, relative when `base_url` is empty. An
        English link carries no language (the links alerts always had): its page is in the
        browser's language, English unless the browser asks for French."""
        if locale not in PAGE_LOCALES[1:]:
            return signed_url(self.base_url, path, self.secret, now, self.ttl)
        expires = int((now + self.ttl).timestamp())
        sig = signature(self.secret, page_signed(path, locale), expires)
        query = urlencode({"expires": expires, "sig": sig, "lang": locale})
        return f"{self.base_url.rstrip('/')}{path}?{query}"

    def job(self, job_id: int, locale: str, now: datetime) -> str:
        return self.url(job_path(job_id), locale, now)

    def history(self, target: str, locale: str, now: datetime) -> str:
        return self.url(history_path(target), locale, now)

    def review(self, draft_id: int, locale: str, now: datetime) -> str:
        return self.url(review_path(draft_id), locale, now)


def verify_page(
    secret: bytes, path: str, lang: str | None, expires: str, sig: str, now: datetime
) -> bool:
    """A page link: signed with its language (`lang`), or an older job link without one."""
    if lang is None:
        return verify(secret, path, expires, sig, now)
    if lang not in PAGE_LOCALES:
        return False
    return verify(secret, page_signed(path, lang), expires, sig, now)
