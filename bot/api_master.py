"""The job-event API's master key: a file under the data folder, never the database nor the
environment (docs/security.md). Every API key's secret is derived from it; the file is kept
like the link key (bot/keyfiles.py)."""

from __future__ import annotations

from pathlib import Path

from bot.keyfiles import base64_format, load_or_create_key
from core.api.keys import MASTER_KEY_BYTES


class MasterKeyError(ValueError):
    """The file exists but does not hold a master key (named, with what to do)."""


MASTER_KEY = base64_format(
    MASTER_KEY_BYTES,
    f"{{path}} does not hold an API master key ({MASTER_KEY_BYTES} bytes, base64). "
    "Restore it from a backup; removing it invalidates every API key.",
    MasterKeyError,
)


def load_master_key(path: Path) -> bytes:
    """Read the key, creating the file (mode 0600, exclusively) on first use."""
    return load_or_create_key(path, MASTER_KEY)
