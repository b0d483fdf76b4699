"""The HTTP side of metrics: the bearer token of `GET /metrics`, and which requests are a
platform's (their ack time is measured, and their log lines name the platform and request)."""

from __future__ import annotations

import hmac
import secrets

# The routes each platform posts to (bot/app.py).
PLATFORM_PATHS = {
    "/slack/events": "slack",
    "/api/messages": "teams",
    "/discord/interactions": "discord",
}


def bearer_matches(header: str | None, token: str) -> bool:
    """Whether `Authorization: <header>` is `Bearer <token>`, compared in constant time.
    Any header at all (missing, another scheme, bytes that are not text) is just a no."""
    if not header or not token:
        return False
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    # surrogateescape: aiohttp hands undecodable header bytes over as surrogates.
    given_bytes = given.strip().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(given_bytes, token.encode("utf-8", "surrogateescape"))


def new_request_id() -> str:
    """A short id naming one request in the log (the platforms' own ids differ in shape)."""
    return secrets.token_hex(8)
