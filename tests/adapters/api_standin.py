"""A loopback stand-in for exportbot's job-event API (`/api/v1/`), as the public contract of
ARCHITECTURE.md fixes it: it checks the key name, the 5-minute window and the HMAC-SHA256
signature over `<timestamp>.<body>` itself (not with the client's code), answers a problem
document (RFC 9457) on a bad one, and records every call it accepted or refused.

`failures` makes the next calls answer a status (a 503 outage, a 404 unknown target).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

WINDOW_SECONDS = 300
# The bodies' fields and limits as the job-event API declares them (a wrong one is a 400).
START: dict[str, type] = {"rid": str, "host": str, "command": str}
FINISH: dict[str, type] = {"exit_status": int, "duration": float, "log_tail": str}
LIMITS = {"rid": 64, "host": 255, "command": 2000, "log_tail": 100 * 1024}
RID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
FIELDS: dict[str, dict[str, type]] = {
    "runs": START,
    "finish": FINISH,
    "report": {**START, **FINISH},
}


@dataclass(frozen=True)
class Call:
    path: str
    key_name: str
    body: dict[str, Any]
    verified: bool
    status: int


@dataclass
class ApiStandIn:
    keys: dict[str, str]  # name -> whole printed key
    calls: list[Call] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    url: str = ""

    def accepted(self, suffix: str) -> list[Call]:
        return [c for c in self.calls if c.status < 300 and c.path.endswith(suffix)]

    def verify(self, request: web.Request, raw: bytes) -> bool:
        name = request.headers.get("X-Exportbot-Key", "")
        stamp = request.headers.get("X-Exportbot-Timestamp", "")
        given = request.headers.get("X-Exportbot-Signature", "")
        printed = self.keys.get(name)
        if printed is None or not stamp.isdigit():
            return False
        if abs(time.time() - int(stamp)) > WINDOW_SECONDS:
            return False
        mac = hmac.new(printed.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
        return hmac.compare_digest(given, "sha256=" + mac.hexdigest())

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        verified = self.verify(request, raw)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        status = 401 if not verified else (self.failures.pop(0) if self.failures else 201)
        if status < 300 and not well_formed(body, FIELDS[request.path.rsplit("/", 1)[-1]]):
            status = 400
        name = request.headers.get("X-Exportbot-Key", "")
        self.calls.append(Call(request.path, name, body, verified, status))
        if status >= 300:
            problem = {"type": "about:blank", "title": "Refused", "status": status}
            return web.json_response(
                problem, status=status, content_type="application/problem+json"
            )
        return web.json_response({"rid": body.get("rid")}, status=status)


def well_formed(body: object, fields: dict[str, type]) -> bool:
    """Known fields only, each of its type and within its limit; a rid of the API's shape."""
    if not isinstance(body, dict):
        return False
    for name, value in body.items():
        kind = fields.get(name)
        if kind is None or isinstance(value, bool):
            return False
        if not isinstance(value, (int, float) if kind is float else kind):
            return False
        if isinstance(value, str) and len(value) > LIMITS.get(name, 0):
            return False
    return "rid" not in body or RID.fullmatch(str(body["rid"])) is not None


@asynccontextmanager
async def running(keys: dict[str, str]) -> AsyncIterator[ApiStandIn]:
    stand_in = ApiStandIn(keys)
    app = web.Application()
    app.router.add_post("/api/v1/targets/{target}/runs", stand_in.handle)
    app.router.add_post("/api/v1/targets/{target}/runs/{rid}/finish", stand_in.handle)
    app.router.add_post("/api/v1/targets/{target}/report", stand_in.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    stand_in.url = str(server.make_url("/")).rstrip("/")
    try:
        yield stand_in
    finally:
        await server.close()
