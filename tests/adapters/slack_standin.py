"""A loopback stand-in of the Slack Web API and of `response_url`, recording what it receives,
plus builders of signed, real-shaped payloads (slash command, interactivity, events).

Shapes follow Slack's documentation: form-encoded slash commands; interactivity as a form
field `payload` holding JSON; Events API as JSON `event_callback` envelopes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.clients import corpus

TEAM = "T0EXPORT"
BOT_USER = "UBOT"
WAIT = 5.0  # seconds a test waits for the bot to call the stand-in
NAMES = {"U0ADMIN": ("Alice Admin", "en-US"), "U0CAROL": ("Carol", "fr-FR")}


@dataclass
class SlackStandIn:
    base_url: str = ""
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[bytes] = field(default_factory=list)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    # Method → how many calls still answer 429 (with Retry-After: 7), to test the sender.
    rate_limited: dict[str, int] = field(default_factory=dict)
    refuse: dict[str, str] = field(default_factory=dict)  # method → Slack error code
    # Slack's "about one message per second per channel", enforced: faster posts get 429.
    enforce_channel_rate: bool = False
    limited: int = 0  # 429s answered
    received_at: list[tuple[str, float, str]] = field(default_factory=list)  # channel, time, text
    # Messages kept per channel as Slack keeps them (ts, thread_ts, text, metadata), so
    # conversations.history/replies can answer; newest last.
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # Seconds to hold a chat.postMessage answer after keeping the message (a crash test
    # kills the bot meanwhile: the message exists, the bot never heard back).
    hold_posts: float = 0.0
    # While set and not yet released, users.info answers only once the test releases it (a
    # slow Slack directory: the ack must not wait for it).
    hold_lookups: asyncio.Event | None = None
    channel_interval: float = 0.95  # what `enforce_channel_rate` allows between two posts
    # How many chat.postMessage calls keep the message, then drop the connection unanswered.
    drop_posts: int = 0
    _last_post: dict[str, float] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.base_url}/response/{name}"

    def called(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    def thread_replies(self) -> list[dict[str, Any]]:
        """Posts in threads, in order (direct messages from the dispatcher left out)."""
        return [c for c in self.called("chat.postMessage") if c.get("thread_ts")]

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        """Wait until `method` was called `count` times (the bot answers in the background)."""
        async with asyncio.timeout(WAIT), self.changed:
            await self.changed.wait_for(lambda: len(self.called(method)) >= count)
        return self.called(method)

    async def wait_for_responses(self, count: int) -> list[dict[str, Any]]:
        async with asyncio.timeout(WAIT), self.changed:
            await self.changed.wait_for(lambda: len(self.responses) >= count)
        return self.responses

    async def _record(self, method: str, args: dict[str, Any]) -> None:
        async with self.changed:
            self.calls.append((method, args))
            self.changed.notify_all()

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "team_id": TEAM,
                "team": "Acme",
                "user_id": BOT_USER,
                "bot_id": "BBOT",
                "url": "https://acme.slack.com/",
            }
        if method == "users.info":
            name, locale = NAMES.get(args["user"], (args["user"].lower(), "en-US"))
            return {
                "user": {
                    "id": args["user"],
                    "name": name.split()[0].lower(),
                    "locale": locale,
                    "profile": {"display_name": name, "real_name": name},
                }
            }
        if method in {"chat.postMessage", "chat.update"}:
            ts = args.get("ts") or f"1700000{next(self._ts):03d}.000100"
            if method == "chat.postMessage":
                self._keep(args, ts)
            return {"channel": args["channel"], "ts": ts, "message": {"text": args.get("text")}}
        if method in {"conversations.history", "conversations.replies"}:
            oldest = float(args.get("oldest") or 0)
            kept = self.history.get(str(args["channel"]), [])
            if method == "conversations.replies":
                kept = [m for m in kept if m.get("thread_ts") == args["ts"]]
            else:
                kept = [m for m in kept if not m.get("thread_ts")]
            # Slack's ts is the posting time; the stand-in's are counters, so it filters on
            # the time it kept beside each message.
            found = [m for m in reversed(kept) if m["_at"] >= oldest]
            return {"messages": [{k: v for k, v in m.items() if k != "_at"} for m in found]}
        if method == "conversations.open":
            return {"channel": {"id": "D" + str(args["users"])}}
        if method in {"views.open", "views.publish", "views.update"}:
            view = args.get("view") or {}
            return {
                "view": {"id": "V0001", **(json.loads(view) if isinstance(view, str) else view)}
            }
        if method == "files.getUploadURLExternal":
            return {"upload_url": f"{self.base_url}/upload/F0001", "file_id": "F0001"}
        if method == "files.completeUploadExternal":
            return {"files": [{"id": "F0001", "title": "file"}]}
        return {}

    def _keep(self, args: dict[str, Any], ts: str) -> None:
        message = {"ts": ts, "text": args.get("text", ""), "_at": time.time()}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            metadata = args["metadata"]
            message["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
        self.history.setdefault(str(args["channel"]), []).append(message)

    def posts_to(self, channel: str) -> list[dict[str, Any]]:
        """Messages kept in `channel` (top level and thread replies), oldest first."""
        return self.history.get(channel, [])


def _parse_json_fields(form: dict[str, Any]) -> dict[str, Any]:
    """The SDK sends `blocks`, `view` etc. as JSON strings in form posts, and numbers as
    text (a file's `length`); keep them as the API reads them."""
    for key in ("blocks", "files", "metadata"):
        if isinstance(form.get(key), str):
            form[key] = json.loads(form[key])
    for key in ("length",):
        if isinstance(form.get(key), str) and form[key].isascii() and form[key].isdigit():
            form[key] = int(form[key])
    return form


@asynccontextmanager
async def slack_standin() -> AsyncIterator[SlackStandIn]:
    standin = SlackStandIn()

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.method == "GET":  # users.info and other reads
            args = dict(request.query)
        elif request.content_type == "application/json":
            args = await request.json()
        else:
            args = _parse_json_fields(dict(await request.post()))
        # Some methods send their arguments as query params (the external upload's do).
        args = _parse_json_fields({**request.query, **args})
        if request.method != "GET" and method != "auth.test":  # reads show nobody anything
            corpus.record("slack", method, args)
        args["_auth"] = request.headers.get("Authorization", "")
        await standin._record(method, args)
        if standin.rate_limited.get(method, 0) > 0:
            standin.rate_limited[method] -= 1
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "7"}
            )
        if method == "chat.postMessage":  # thread replies count against the channel too
            channel, now = str(args.get("channel")), time.monotonic()
            last = standin._last_post.get(channel)
            too_soon = last is not None and now - last < standin.channel_interval
            if standin.enforce_channel_rate and too_soon:
                standin.limited += 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
            standin._last_post[channel] = now
            standin.received_at.append((channel, now, str(args.get("text", ""))))
        if method == "users.info" and standin.hold_lookups is not None:
            await standin.hold_lookups.wait()
        if method in standin.refuse:
            return web.json_response({"ok": False, "error": standin.refuse[method]})
        answer = standin._answer(method, args)
        if method == "chat.postMessage" and standin.drop_posts > 0:
            standin.drop_posts -= 1
            assert request.transport is not None
            request.transport.close()  # posted, and the bot never hears so
            return web.Response()
        if method == "chat.postMessage" and standin.hold_posts:
            await asyncio.sleep(standin.hold_posts)
        return web.json_response({"ok": True, **answer})

    async def response(request: web.Request) -> web.Response:
        payload = await request.json()
        corpus.record("slack", "response-url", payload)
        async with standin.changed:
            standin.responses.append(payload)
            standin.changed.notify_all()
        return web.Response(text="ok")

    async def upload(request: web.Request) -> web.Response:
        standin.uploads.append(await request.read())
        return web.Response(text="OK - 11")

    app = web.Application()
    app.router.add_route("*", "/api/{method}", api)
    app.router.add_post("/response/{name}", response)
    app.router.add_post("/upload/{file}", upload)
    async with TestServer(app, host="127.0.0.1") as server:
        standin.base_url = str(server.make_url("")).rstrip("/")
        yield standin


# -- signed requests ---------------------------------------------------------------------


def signed(
    secret: str,
    body: str,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers exactly as Slack signs a request (v0, HMAC-SHA256 of `v0:<ts>:<body>`)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": content_type,
    }


_triggers = itertools.count(1)


def trigger_id() -> str:
    """A fresh trigger id: Slack gives each invocation its own (a replay repeats it)."""
    return f"{next(_triggers)}.4567.{hashlib.sha256(str(time.time()).encode()).hexdigest()[:12]}"


def slash_command(
    text: str,
    *,
    user: str,
    team: str = TEAM,
    response_url: str,
    channel: str = "C0OPS",
    channel_name: str = "ops",
) -> str:
    """A form-encoded slash command with the fields Slack documents (typed `&` arrives as
    `&amp;`, as Slack escapes it)."""
    text = text.replace("&", "&amp;")
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": channel_name,  # "directmessage" in a DM
            "user_id": user,
            "user_name": user.lower(),
            "command": "/export",
            "text": text,
            "api_app_id": "A0EXPORT",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id(),
        }
    )


def _user(user: str, team: str) -> dict[str, str]:
    return {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team}


def interactive(payload: dict[str, Any]) -> str:
    """Interactivity posts one form field, `payload`, holding the JSON."""
    return urlencode({"payload": json.dumps(payload)})


def block_actions(
    action_id: str,
    value: str,
    *,
    user: str,
    response_url: str,
    team: str = TEAM,
    message_ts: str = "1700000000.000100",
    ephemeral: bool = False,
) -> str:
    """A `block_actions` interaction (one button press on a message), as Slack posts it;
    `ephemeral`: on a message only the presser sees."""
    return interactive(
        {
            "type": "block_actions",
            "api_app_id": "A0EXPORT",
            "token": "legacy-verification-token",
            "team": {"id": team, "domain": "acme"},
            "user": _user(user, team),
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": "C0OPS",
                "is_ephemeral": ephemeral,
            },
            "channel": {"id": "C0OPS", "name": "ops"},
            "message": {"type": "message", "ts": message_ts, "text": "card", "blocks": []},
            "trigger_id": trigger_id(),
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
    )


def message_action(
    *, user: str, message: dict[str, Any], response_url: str, team: str = TEAM
) -> str:
    """The message shortcut "Annotate export job" used on `message`."""
    return interactive(
        {
            "type": "message_action",
            "callback_id": "annotate_job",
            "token": "legacy-verification-token",
            "action_ts": "1700000002.000300",
            "team": {"id": team, "domain": "acme"},
            "user": _user(user, team),
            "channel": {"id": "C0OPS", "name": "ops"},
            "message": {"type": "message", **message},
            "trigger_id": trigger_id(),
            "response_url": response_url,
        }
    )


def global_shortcut(callback_id: str, *, user: str, team: str = TEAM) -> str:
    return interactive(
        {
            "type": "shortcut",
            "callback_id": callback_id,
            "token": "legacy-verification-token",
            "action_ts": "1700000002.000400",
            "team": {"id": team, "domain": "acme"},
            "user": _user(user, team),
            "trigger_id": trigger_id(),
        }
    )


def view_submission(
    view: dict[str, Any], values: dict[str, dict[str, Any]], *, user: str, team: str = TEAM
) -> str:
    """Submit the modal `view` (as the bot opened it) with `values` keyed by block id."""
    state = {
        block: {block: element}  # our action ids equal the block ids
        for block, element in values.items()
    }
    return interactive(
        {
            "type": "view_submission",
            "team": {"id": team, "domain": "acme"},
            "user": _user(user, team),
            "api_app_id": "A0EXPORT",
            "token": "legacy-verification-token",
            "trigger_id": trigger_id(),
            "view": {
                "id": "V0001",
                "team_id": team,
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "blocks": view["blocks"],
                "state": {"values": state},
                "hash": "1700000003.abc",
            },
            "response_urls": [],
        }
    )


def event_callback(event: dict[str, Any], *, event_id: str, team: str = TEAM) -> str:
    """An Events API envelope (JSON)."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A0EXPORT",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": team,
                    "user_id": BOT_USER,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
        }
    )
