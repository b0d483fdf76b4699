"""Ed25519 interaction signatures: only Discord's own signature of `timestamp + body` passes."""

from __future__ import annotations

import pytest
from nacl.signing import SigningKey

from adapters.discord.verify import (
    MAX_AGE,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InteractionVerifier,
    verify,
)

NOW = 1_795_000_000
BODY = b'{"type":1,"id":"1","token":"t"}'
KEY = SigningKey.generate()
PUBLIC = KEY.verify_key.encode().hex()


def _sign(body: bytes = BODY, timestamp: str = str(NOW), key: SigningKey = KEY) -> str:
    return key.sign(timestamp.encode() + body).signature.hex()


def _verifier(max_age: float | None = MAX_AGE) -> InteractionVerifier:
    return InteractionVerifier(PUBLIC, max_age=max_age, clock=lambda: float(NOW))


def test_a_good_signature_passes() -> None:
    assert _verifier().verify(_sign(), str(NOW), BODY)
    assert verify(PUBLIC, _sign(), str(NOW), BODY, clock=lambda: NOW)
    assert _verifier().verify(_sign().upper(), str(NOW), BODY)  # hex case does not matter


def test_headers_are_read_from_the_request() -> None:
    headers = {SIGNATURE_HEADER: _sign(), TIMESTAMP_HEADER: str(NOW)}
    assert headers == {"X-Signature-Ed25519": _sign(), "X-Signature-Timestamp": str(NOW)}
    assert _verifier().verify_headers(headers, BODY)
    assert not _verifier().verify_headers({}, BODY)


def test_a_flipped_body_byte_fails() -> None:
    flipped = bytes([BODY[0] ^ 0x01]) + BODY[1:]
    assert not _verifier().verify(_sign(), str(NOW), flipped)


def test_the_timestamp_is_part_of_the_signed_message() -> None:
    assert not _verifier().verify(_sign(), str(NOW + 1), BODY)


def test_a_signature_by_another_key_fails() -> None:
    other = SigningKey.generate()
    assert not _verifier().verify(_sign(key=other), str(NOW), BODY)


@pytest.mark.parametrize(
    ("signature", "timestamp"),
    [
        (None, str(NOW)),
        (_sign(), None),
        ("", str(NOW)),
        (_sign(), ""),
        ("zz" * 64, str(NOW)),  # not hex
        (_sign()[:-1], str(NOW)),  # odd length
        (_sign()[:-2], str(NOW)),  # 63 bytes
        (_sign() + "00", str(NOW)),  # 65 bytes
        (" ".join([_sign()[:64], _sign()[64:]]), str(NOW)),  # fromhex would accept the space
        (_sign(), "17950000.5"),
        (_sign(), "-1795000000"),
        (_sign(), "١٧٩٥"),  # Arabic-Indic digits: isdigit() but not what Discord sends
        (_sign(), "9" * 5000),  # past int()'s 4,300-digit limit
        (_sign(), "²"),
    ],
)
def test_missing_or_malformed_headers_fail_without_raising(
    signature: str | None, timestamp: str | None
) -> None:
    assert not _verifier().verify(signature, timestamp, BODY)


@pytest.mark.parametrize("key", ["", "abc", "g" * 64, PUBLIC[:-2], PUBLIC + "00", PUBLIC[:-1]])
def test_a_malformed_configured_key_is_a_clear_error_at_construction(key: str) -> None:
    with pytest.raises(ValueError, match="DISCORD_PUBLIC_KEY"):
        InteractionVerifier(key)
    assert not verify(key, _sign(), str(NOW), BODY)  # the one-off form just says no


def test_surrounding_whitespace_in_the_configured_key_is_tolerated() -> None:
    assert InteractionVerifier(f" {PUBLIC}\n", clock=lambda: NOW).verify(_sign(), str(NOW), BODY)


def test_replays_outside_the_window_fail_and_the_window_can_be_turned_off() -> None:
    old = str(NOW - 301)
    assert not _verifier().verify(_sign(timestamp=old), old, BODY)
    future = str(NOW + 301)
    assert not _verifier().verify(_sign(timestamp=future), future, BODY)
    edge = str(NOW - 300)
    assert _verifier().verify(_sign(timestamp=edge), edge, BODY)
    assert _verifier(max_age=None).verify(_sign(timestamp=old), old, BODY)
