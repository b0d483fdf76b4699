"""The job-event API's master key: a file under the data folder, never the database nor the
environment (docs/security.md). Every API key's secret is derived from it."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from core.api.keys import MASTER_KEY_BYTES, new_master_key


class MasterKeyError(ValueError):
    """The file exists but does not hold a master key (named, with what to do)."""


def load_master_key(path: Path) -> bytes:
    """Read the key, creating the file (mode 0600, exclusively) on first use."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        return _create(path)
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise MasterKeyError(
            f"{path} does not hold an API master key ({MASTER_KEY_BYTES} bytes, base64). "
            "Restore it from a backup; removing it invalidates every API key."
        )
    return key


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = new_master_key()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return load_master_key(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(base64.b64encode(key).decode() + "\n")
    return key
