"""The payload corpus: with EXPORTBOT_PAYLOAD_CORPUS naming a folder, every payload the bot
sends to a platform (as the loopback stand-ins receive it) and every payload it answers a
platform with (the HTTP answers of its own routes) is written there, one JSON file each, under
`<platform>/<kind>/`. tests/clients checks them with the platforms' own types and schemas.

Without the variable nothing is written and nothing is added to the app.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.payload import Payload

ENV = "EXPORTBOT_PAYLOAD_CORPUS"
_numbers = itertools.count(1)

# The bot's routes whose answers go back to a platform, and which platform.
ANSWERING_ROUTES = {
    "/slack/events": "slack",
    "/discord/interactions": "discord",
    "/api/messages": "teams",
}


def folder() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def record(platform: str, kind: str, payload: Any) -> None:
    """Keep `payload` in the corpus, if one is asked for, naming the test that produced it."""
    where = folder()
    if where is not None:
        source = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        write(where, platform, kind, payload, source)


def write(where: Path, platform: str, kind: str, payload: Any, source: str) -> None:
    """Write `payload` as `<where>/<platform>/<kind>/<pid>-<n>.json`."""
    if payload in (None, "", {}, []):
        return
    kind_folder = where / platform / kind
    kind_folder.mkdir(parents=True, exist_ok=True)
    # Several pytest processes may write at once: the process id keeps the names apart.
    name = f"{os.getpid()}-{next(_numbers):06d}.json"
    entry = {"platform": platform, "kind": kind, "source": source, "payload": payload}
    (kind_folder / name).write_text(json.dumps(entry, indent=1, ensure_ascii=False))


def answer_kind(platform: str, payload: Any) -> str:
    """Name what the bot answered a platform with, by its shape."""
    if platform == "slack":
        if isinstance(payload, dict) and "response_action" in payload:
            return "view-response"
        if isinstance(payload, dict) and ("options" in payload or "option_groups" in payload):
            return "options"
        return "ack"
    if platform == "discord":
        return "interaction-response"
    return "invoke-response"


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _record_answers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    platform = ANSWERING_ROUTES.get(request.path)
    body = getattr(response, "body", None)
    if isinstance(body, Payload):  # Bolt answers with a str body, which aiohttp wraps
        body = body.decode()
    if platform is None or response.status != 200 or not body:
        return response
    try:
        payload = json.loads(body)
    except ValueError:  # Slack's plain-text acks carry no payload to check
        return response
    record(platform, answer_kind(platform, payload), payload)
    return response


def tap(app: web.Application) -> web.Application:
    """Record the HTTP answers of `app`'s platform routes (only while a corpus is asked for)."""
    if folder() is not None:
        app.middlewares.append(_record_answers)
    return app
