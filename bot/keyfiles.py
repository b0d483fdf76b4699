"""Keys the bot keeps in its data folder rather than in the database or the environment: the
key that signs links when the operator sets none (G4), and the job-event API's master key.

A key made per process would make every link in chat history die at each restart, and a link
printed by `exportbot console` would never open in `serve`. So the first process that needs a
key writes it, readable by its owner only, and every later process on this machine reads the
same one. Several hosts still need the link key set in their configuration.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import ConfigError

KEY_BYTES = 32


class KeyFileError(ConfigError):
    """A key file holds no key we wrote, or cannot be made: named, never replaced silently
    (whatever the old key signed or derived would stop working)."""


@dataclass(frozen=True)
class KeyFormat:
    """How one kind of key is written, and what to say when its file is damaged."""

    size: int
    encode: Callable[[bytes], str]
    decode: Callable[[str], bytes]  # raises ValueError on text it did not write
    damaged: str  # "{path} …": what the file should hold and what to do
    error: type[Exception] = KeyFileError


LINK_KEY = KeyFormat(
    KEY_BYTES,
    bytes.hex,
    bytes.fromhex,
    "{path} does not hold a key written by exportbot; remove it to make a new one (links "
    "signed with the old key stop working) or set EXPORTBOT_LINK_SECRET",
)


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ValueError(str(error)) from None


def base64_format(size: int, damaged: str, error: type[Exception]) -> KeyFormat:
    return KeyFormat(size, lambda key: base64.b64encode(key).decode(), _b64decode, damaged, error)


def load_or_create_key(path: Path, fmt: KeyFormat = LINK_KEY) -> bytes:
    """The key in `path`, made there first if missing (created exclusively, so two processes
    starting together end with the same key)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path, fmt)
        key = secrets.token_bytes(fmt.size)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(fmt.encode(key) + "\n")
            file.flush()
            os.fsync(file.fileno())
        return key
    except OSError as error:
        raise KeyFileError(
            f"Cannot keep a key in {path}: {error.strerror or error}; "
            "set EXPORTBOT_LINK_SECRET instead"
            if fmt is LINK_KEY
            else f"Cannot keep a key in {path}: {error.strerror or error}"
        ) from None


def _read(path: Path, fmt: KeyFormat) -> bytes:
    text = ""
    for _ in range(50):  # the creator may still be writing: its file is briefly empty
        text = path.read_text(encoding="ascii", errors="replace").strip()
        if text:
            break
        time.sleep(0.01)
    try:
        key = fmt.decode(text)
    except ValueError:
        key = b""
    if len(key) != fmt.size:
        raise fmt.error(fmt.damaged.format(path=path))
    return key
