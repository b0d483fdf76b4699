"""Signed calls to the job-event API of a harnessed bot, as a client tool makes them."""

from __future__ import annotations

import io
import json
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.api_master import load_master_key
from bot.app import BOT_KEY
from core.api.admin import create_key
from core.api.signature import sign
from core.clock import SystemClock
from core.domain.model import Actor, Principal

OPERATOR = Actor(Principal("cli", "", "ops"), "ops")
# Counted before and after every refusal: a refused call writes none of them.
WRITTEN_TABLES = (
    "jobs",
    "api_runs",
    "outbox",
    "quota_usage",
    "inbound_events",
    "provisioned_targets",
)


async def new_key(
    client: TestClient[web.Request, web.Application],
    name: str,
    *targets: str,
    may_create: bool = False,
) -> str:
    """A key made as `exportbot api-key create` makes it; its printed form."""
    bot = client.app[BOT_KEY]
    master = load_master_key(bot.settings.api_master_key_path)
    return await create_key(
        bot.uow_factory, master, SystemClock(), OPERATOR, name, targets, may_create=may_create
    )


def signed_headers(printed: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": "application/json",
        "X-Exportbot-Key": printed.partition(".")[0],
        "X-Exportbot-Timestamp": stamp,
        "X-Exportbot-Signature": sign(printed, stamp, body),
    }


async def call(
    client: TestClient[web.Request, web.Application],
    path: str,
    payload: dict[str, Any] | bytes,
    printed: str | None,
    *,
    timestamp: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any, str]:
    """(status, JSON answer, content type) of one POST, signed with `printed` unless None."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    sent = signed_headers(printed, body, timestamp) if printed else {}
    data = io.BytesIO(body) if len(body) > 64 * 1024 else body  # aiohttp's advice for large ones
    response = await client.post(path, data=data, headers={**sent, **(headers or {})})
    text = await response.text()
    return response.status, json.loads(text) if text else None, response.content_type
