"""The job-event API's request signature (ARCHITECTURE.md, "Public contract").

`X-Exportbot-Signature: sha256=<hex HMAC-SHA256(<printed key>, "<timestamp>.<body>")>`, with
`X-Exportbot-Timestamp` in unix seconds within five minutes of the server's clock.
"""

from __future__ import annotations

import hashlib
import hmac

WINDOW_SECONDS = 300
PREFIX = "sha256="
KEY_HEADER = "X-Exportbot-Key"
TIMESTAMP_HEADER = "X-Exportbot-Timestamp"
SIGNATURE_HEADER = "X-Exportbot-Signature"


def sign(printed_key: str, timestamp: str, body: bytes) -> str:
    """The header value a client sends (also what tests and `exportbot report` use)."""
    mac = hmac.new(printed_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return PREFIX + mac.hexdigest()


def timestamp_fresh(timestamp: str, now: float) -> bool:
    """A plain decimal within the window, either side (clocks drift both ways)."""
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return False
    return abs(now - int(timestamp)) <= WINDOW_SECONDS


def signature_matches(printed_key: str, timestamp: str, body: bytes, given: str) -> bool:
    """Constant-time comparison of the whole header value."""
    expected = sign(printed_key, timestamp, body)
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
