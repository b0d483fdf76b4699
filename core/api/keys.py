"""API keys: a secret derived from a master key, never stored (docs/security.md).

The client signs with the whole printed key `N.<secret>`, so the server must be able to
recompute it: storing only a hash of it (as for a password) cannot work for HMAC. Instead the
secret is derived, `base64url(HMAC-SHA256(master, "exportbot-api-key:" + name + ":" + nonce))`;
the database keeps the name, the nonce and a SHA-256 fingerprint of the printed key, and the
master key lives in a file. A database leak alone forges nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

# Key names are typed on command lines and sent in a header: short and plain.
KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MASTER_KEY_BYTES = 32


@dataclass(frozen=True)
class ApiKey:
    """What is kept of a key: never its secret."""

    name: str
    nonce: str
    fingerprint: str  # SHA-256 hex of the printed key
    created_at: datetime
    created_by: str
    targets: tuple[str, ...] = ()  # empty: every target
    may_create: bool = False  # may auto-provision `reported` targets it reports to
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def allows(self, target: str) -> bool:
        return not self.targets or target in self.targets


def valid_name(name: str) -> bool:
    return KEY_NAME.fullmatch(name) is not None


def new_nonce() -> str:
    return secrets.token_hex(16)


def derive_secret(master: bytes, name: str, nonce: str) -> str:
    mac = hmac.new(master, f"exportbot-api-key:{name}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def printed_key(master: bytes, name: str, nonce: str) -> str:
    """The string given to the client once, and the HMAC key it signs with."""
    return f"{name}.{derive_secret(master, name, nonce)}"


def fingerprint(printed: str) -> str:
    return hashlib.sha256(printed.encode()).hexdigest()
