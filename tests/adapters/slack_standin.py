"""A loopback stand-in of the Slack Web API and of `response_url`, recording what it receives."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer

TEAM = "T0EXPORT"


@dataclass
class SlackStandIn:
    base_url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    responded: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.base_url}/response/{name}"


@asynccontextmanager
async def slack_standin() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn()

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = (
            dict(await request.post())
            if request.content_type != "application/json"
            else (await request.json())
        )
        standin.calls.append((method, form))
        if method == "auth.test":
            return web.json_response(
                {
                    "ok": True,
                    "team_id": TEAM,
                    "team": "Acme",
                    "user_id": "UBOT",
                    "bot_id": "BBOT",
                    "url": "https://acme.slack.com/",
                }
            )
        return web.json_response({"ok": True})

    async def response(request: web.Request) -> web.Response:
        standin.responses.append(await request.json())
        standin.responded.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/api/{method}", api)
    app.router.add_post("/response/{name}", response)
    async with TestServer(app, host="127.0.0.1") as server:
        standin.base_url = str(server.make_url("")).rstrip("/")
        yield standin


def signed(secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers exactly as Slack signs a request (v0, HMAC-SHA256 of `v0:<ts>:<body>`)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def slash_command(text: str, *, user: str, team: str = TEAM, response_url: str) -> str:
    """A form-encoded slash command with the fields Slack documents."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "acme",
            "channel_id": "C0OPS",
            "channel_name": "ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/export",
            "text": text,
            "api_app_id": "A0EXPORT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "123.456.abcdef",
        }
    )


def block_actions(
    action_id: str, value: str, *, user: str, response_url: str, team: str = TEAM
) -> str:
    """A form-encoded `block_actions` interaction (one button press), as Slack posts it."""
    payload = {
        "type": "block_actions",
        "api_app_id": "A0EXPORT",
        "token": "legacy-verification-token",
        "team": {"id": team, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": "C0OPS",
            "is_ephemeral": False,
        },
        "channel": {"id": "C0OPS", "name": "ops"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "draft", "blocks": []},
        "trigger_id": "123.456.abcdef",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "b1",
                "value": value,
                "action_ts": "1700000001.000200",
                "text": {"type": "plain_text", "text": "Approve"},
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})
