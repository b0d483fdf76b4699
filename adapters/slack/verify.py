"""Slack request signatures (G1), checked in our code before anything reads the body.

Slack signs `v0:<timestamp>:<body>` with the app's signing secret (HMAC-SHA256) and sends
`X-Slack-Signature: v0=<hex>` and `X-Slack-Request-Timestamp`. A request more than five
minutes from now is refused, so a captured one cannot be replayed later. Bolt checks the same
only after parsing the body, and its parser answers garbage with a 500: here the headers are
read as plain ASCII and the body as bytes, so nothing a stranger sends can raise.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping

from core.commands.numbers import whole_number

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
MAX_AGE = 300.0  # seconds either side of now (Slack's own advice)

_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class RequestVerifier:
    """Checks Slack request signatures against one signing secret."""

    def __init__(
        self, signing_secret: str, clock: Callable[[], float], *, max_age: float = MAX_AGE
    ) -> None:
        self._secret = signing_secret.encode()
        self._clock = clock
        self._max_age = max_age

    def verify(self, timestamp: str | None, signature: str | None, body: bytes) -> bool:
        """True only for a well-formed, valid signature of `body` made within `max_age`."""
        if not self._secret or not timestamp or not signature:
            return False  # no secret (Socket Mode only): nobody may post here
        seconds = whole_number(timestamp)
        if seconds is None or abs(self._clock() - seconds) > self._max_age:
            return False
        if not _SIGNATURE.fullmatch(signature):
            return False
        signed = b"v0:" + timestamp.encode() + b":" + body
        expected = hmac.new(self._secret, signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature[3:])

    def verify_headers(self, headers: Mapping[str, str], body: bytes) -> bool:
        """`verify` with the two headers read from a request (case-insensitive mapping)."""
        return self.verify(headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER), body)
