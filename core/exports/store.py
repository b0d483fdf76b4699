"""The export store: finished exports as files under one folder, each named by a random,
unguessable id, with a small JSON sidecar saying what it is and when it expires.

A file is written as `<id>.part` and renamed when complete, so a download never sees half an
export; expired files (and parts a crash left) are swept. The id is checked against its shape
before it touches a path, so no request can name a file outside the folder.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

from core.exports.spec import CONTENT_TYPES, ExportSpec, StoredExport

log = logging.getLogger(__name__)

_ID = re.compile(r"[A-Za-z0-9_-]{32}")  # secrets.token_urlsafe(24): 192 random bits
_DATA, _META, _PART = ".data", ".json", ".part"


def is_export_id(text: str) -> bool:
    return _ID.fullmatch(text) is not None


class ExportStore:
    def __init__(self, folder: Path | str, ttl: timedelta) -> None:
        self.folder = Path(folder)
        self.ttl = ttl  # a file lives as long as the link to it

    async def write(
        self, spec: ExportSpec, chunks: AsyncIterator[str], now: datetime
    ) -> StoredExport:
        """Write `chunks` to a new file, one chunk in memory at a time; count its lines."""
        self.folder.mkdir(parents=True, exist_ok=True)
        export_id = secrets.token_urlsafe(24)
        part = self.folder / f"{export_id}{_PART}"
        size = 0
        try:
            with part.open("wb") as out:
                async for chunk in chunks:
                    data = chunk.encode()
                    out.write(data)
                    size += len(data)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        stored = StoredExport(
            export_id,
            self.folder / f"{export_id}{_DATA}",
            spec.filename,
            CONTENT_TYPES[spec.fmt],
            size,
            0,
            now + self.ttl,
        )
        meta = {
            "filename": stored.filename,
            "content_type": stored.content_type,
            "size": size,
            "expires_at": stored.expires_at.isoformat(),
        }
        (self.folder / f"{export_id}{_META}").write_text(json.dumps(meta))
        part.rename(stored.path)
        return stored

    def find(self, export_id: str, now: datetime) -> StoredExport | None:
        """The export named `export_id` if it exists and has not expired."""
        if not is_export_id(export_id):
            return None
        path = self.folder / f"{export_id}{_DATA}"
        try:
            meta = json.loads((self.folder / f"{export_id}{_META}").read_text())
            expires_at = datetime.fromisoformat(meta["expires_at"])
            stored = StoredExport(
                export_id,
                path,
                str(meta["filename"]),
                str(meta["content_type"]),
                int(meta["size"]),
                0,
                expires_at,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if expires_at <= now or not path.is_file():
            return None
        return stored

    def sweep(self, now: datetime) -> int:
        """Delete expired exports and parts older than the link TTL; how many files went."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for meta_path in self.folder.glob(f"*{_META}"):
            export_id = meta_path.name.removesuffix(_META)
            if self.find(export_id, now) is not None:
                continue
            for path in (meta_path, self.folder / f"{export_id}{_DATA}"):
                if path.exists():
                    path.unlink(missing_ok=True)
                    removed += 1
        for part in self.folder.glob(f"*{_PART}"):
            written = datetime.fromtimestamp(part.stat().st_mtime, tz=now.tzinfo)
            if written + self.ttl < now:
                part.unlink(missing_ok=True)
                removed += 1
        return removed
