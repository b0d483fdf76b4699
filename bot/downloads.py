"""`GET /exports/{id}`: an `audit` export's file, behind its signed, expiring link (G4).

The signature is the permission: a bent link (another id, another expiry, no signature) is
403, a genuine one past its time 410, an id the store does not hold (swept, never made) 404;
nothing here answers 500. The file is streamed from disk a chunk at a time, named for a
download, and every download is a line in the audit log.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from bot import pages
from core.commands.numbers import whole_number
from core.domain.model import AuditEntry, Outcome
from core.exports.service import ExportService
from core.i18n import Translator
from core.ports import AuditSink, Clock
from core.safety.links import export_path, verify

DOWNLOAD_ACTION = "audit.download"
LINK_ACTOR = "web::link"  # whoever holds the link: the signature, not a person, is checked


async def serve_export(
    request: web.Request,
    exports: ExportService,
    secret: bytes,
    clock: Clock,
    audit: AuditSink,
) -> web.StreamResponse:
    t = Translator(request.headers.get("Accept-Language", "en").split(",")[0])
    export_id = request.match_info["export_id"]
    path = export_path(export_id)
    expires, sig = request.query.get("expires", ""), request.query.get("sig", "")
    now = clock.now()
    if not verify(secret, path, expires, sig, now):
        # Signed right but past its time: gone, not forbidden.
        seconds = whole_number(expires)
        signed = seconds is not None and verify(secret, path, expires, sig, _EPOCH)
        status = 410 if signed else 403
        key = "page.export_gone" if signed else "page.export_invalid"
        return _refusal(t, key, status)
    found = exports.store.find(export_id, now)
    if found is None:
        return _refusal(t, "page.export_gone", 404)
    audit.append(
        AuditEntry(
            at=now,
            actor=LINK_ACTOR,
            actor_name=request.remote or "",
            platform="web",
            workspace="",
            channel="",
            action=DOWNLOAD_ACTION,
            outcome=Outcome.OK,
            detail=f"{found.filename} ({found.size} bytes)",
        )
    )
    response = web.StreamResponse(
        headers={
            "Content-Type": found.content_type,
            "Content-Disposition": _attachment(found.filename),
            "Cache-Control": "no-store",
        }
    )
    response.content_length = found.size
    await response.prepare(request)
    # A chunk at a time, read off the event loop: memory stays one chunk whatever the size.
    with found.path.open("rb") as handle:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK = 256 * 1024


def _attachment(filename: str) -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (targets are ASCII, but say it right)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def _refusal(t: Translator, key: str, status: int) -> web.Response:
    return web.Response(text=pages.refusal(t, key), status=status, content_type="text/html")
