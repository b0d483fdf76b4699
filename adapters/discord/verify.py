"""Ed25519 verification of inbound Discord interactions (G1), with PyNaCl.

Discord signs `timestamp + body` with the application's key and sends the signature and the
timestamp in `X-Signature-Ed25519` and `X-Signature-Timestamp`; a request that fails must get
401 (Discord probes the endpoint with bad signatures). Discord does not ask for a time window,
but a captured request replayed hours later is refused here when it is older than `max_age`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
MAX_AGE = 300.0  # seconds either side of now, as the job-event API allows

_KEY_HEX = re.compile(r"[0-9a-fA-F]{64}")  # 32 bytes
_SIGNATURE_HEX = re.compile(r"[0-9a-fA-F]{128}")  # 64 bytes
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # ASCII only; longer would not fit int() anyway


class InteractionVerifier:
    """Checks interaction signatures against one public key, parsed once.

    Raises:
        ValueError: `public_key_hex` is not 64 hexadecimal digits (the configured
            DISCORD_PUBLIC_KEY is wrong: better to stop at start than refuse every request).
    """

    def __init__(
        self,
        public_key_hex: str,
        *,
        max_age: float | None = MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = public_key_hex.strip()
        if not _KEY_HEX.fullmatch(key):
            raise ValueError(
                "DISCORD_PUBLIC_KEY must be the application's public key: 64 hexadecimal "
                f"digits (the Developer Portal's 'Public Key'), got {len(key)} characters."
            )
        self._key = VerifyKey(bytes.fromhex(key))
        self._max_age = max_age
        self._clock = clock

    def verify(self, signature_hex: str | None, timestamp: str | None, body: bytes) -> bool:
        """True only for a well-formed, valid signature of `timestamp + body` made in time."""
        if not signature_hex or not timestamp or not _SIGNATURE_HEX.fullmatch(signature_hex):
            return False
        if not self._in_time(timestamp):
            return False
        try:
            self._key.verify(timestamp.encode() + body, bytes.fromhex(signature_hex))
        except BadSignatureError:
            return False
        return True

    def verify_headers(self, headers: Mapping[str, str], body: bytes) -> bool:
        """`verify` with the two headers read from a request (case-insensitive mapping)."""
        return self.verify(headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER), body)

    def _in_time(self, timestamp: str) -> bool:
        if not _UNIX_SECONDS.fullmatch(timestamp):
            return False  # Discord sends whole Unix seconds
        if self._max_age is None:
            return True
        return abs(self._clock() - int(timestamp)) <= self._max_age


def verify(
    public_key_hex: str,
    signature_hex: str | None,
    timestamp: str | None,
    body: bytes,
    *,
    max_age: float | None = MAX_AGE,
    clock: Callable[[], float] = time.time,
) -> bool:
    """One-off check; a malformed key is a failed check here, not an error."""
    try:
        verifier = InteractionVerifier(public_key_hex, max_age=max_age, clock=clock)
    except ValueError:
        return False
    return verifier.verify(signature_hex, timestamp, body)
