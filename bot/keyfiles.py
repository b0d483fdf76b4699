"""Keys the bot keeps in its data folder when the operator sets none (signed links, G4).

A key made per process would make every link in chat history die at each restart, and a link
printed by `exportbot console` would never open in `serve`. So the first process that needs
the key writes it, readable by its owner only, and every later process on this machine reads
the same one. Several hosts still need the key set in their configuration, the same everywhere.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from bot.config import ConfigError

KEY_BYTES = 32


class KeyFileError(ConfigError):
    """The key file exists but holds no key we wrote: named, never replaced silently (links
    signed with the old key would all stop working)."""


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, made there first if missing (created exclusively, so two processes
    starting together end with the same key)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _read(path)
        key = secrets.token_bytes(KEY_BYTES)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(key.hex() + "\n")
            file.flush()
            os.fsync(file.fileno())
        return key
    except OSError as error:
        raise KeyFileError(
            f"Cannot keep the link key in {path}: {error.strerror or error}; "
            "set EXPORTBOT_LINK_SECRET instead"
        ) from None


def _read(path: Path) -> bytes:
    for _ in range(50):  # the creator may still be writing: its file is briefly empty
        text = path.read_text(encoding="ascii", errors="replace").strip()
        if text:
            break
        time.sleep(0.01)
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{path} does not hold a key written by exportbot; remove it to make a new one "
            "(links signed with the old key stop working) or set EXPORTBOT_LINK_SECRET"
        )
    return key
