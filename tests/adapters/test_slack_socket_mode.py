"""`/export` over Socket Mode: the same Bolt app, envelopes in and acks out on a real WebSocket."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.errors import SlackApiError

from adapters.slack import SlackAdapter
from adapters.slack.socket_mode import SlackSocketMode
from bot.app import create_app
from bot.bootstrap import Bot, open_bot
from bot.config import Settings
from tests.adapters.bot_harness import configured_people_have_seen_the_tour
from tests.adapters.slack_socket_standin import TEAM, SocketStandIn, slash_envelope, socket_standin

APP_TOKEN = "xapp-1-A0EXPORT-1-abcdef"
BOT_TOKEN = "xoxb-test"
ADMIN = "U0ADMIN"


@pytest.fixture
async def socket_api() -> AsyncIterator[SocketStandIn]:
    async with socket_standin(APP_TOKEN) as running:
        yield running


@pytest.fixture
async def bot(tmp_path: Path) -> AsyncIterator[Bot]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"slack:{TEAM}:{ADMIN}"],
        slack_app_token=APP_TOKEN,  # type: ignore[arg-type]
        scheduler=False,
    )
    async with open_bot(settings) as running:
        await configured_people_have_seen_the_tour(running)
        yield running


@pytest.fixture
async def adapter(bot: Bot, socket_api: SocketStandIn) -> AsyncIterator[SlackAdapter]:
    # No signing secret: Socket Mode envelopes are not signed (Bolt skips the verification),
    # so an app-token-only deployment works (with POST /slack/events left unmounted).
    slack = SlackAdapter(
        bot.service, bot.clock, signing_secret="", token=BOT_TOKEN, api_url=socket_api.api_url
    )
    await slack.start()
    try:
        yield slack
    finally:
        await slack.close()


@pytest.fixture
async def socket(adapter: SlackAdapter) -> AsyncIterator[SlackSocketMode]:
    async with SlackSocketMode(adapter.app, APP_TOKEN) as running:
        yield running


async def test_help_is_acked_on_the_socket_with_the_answer(
    socket: SlackSocketMode, socket_api: SocketStandIn
) -> None:
    link = await socket_api.link()
    # The URL was issued with the app token, not the bot token the web client holds.
    [(_, _, authorization)] = [c for c in socket_api.calls if c[0] == "apps.connections.open"]
    assert authorization == f"Bearer {APP_TOKEN}"
    envelope = slash_envelope("help", user=ADMIN, response_url=socket_api.response_url())

    ack = await socket_api.push(envelope)

    assert set(ack) == {"envelope_id", "payload"}
    assert ack["envelope_id"] == envelope["envelope_id"]
    payload = ack["payload"]
    assert payload["response_type"] == "ephemeral"
    assert "/export run &lt;target&gt;" in payload["text"]
    assert payload["blocks"][0]["type"] == "header"
    assert link.received == [ack]  # one envelope, one ack
    # Only the URL and identity look-ups reached the Web API: the answer went back in the ack.
    assert set(socket_api.methods()) == {"auth.test", "apps.connections.open", "users.info"}
    assert socket_api.responses == []


async def test_a_run_is_acked_then_its_job_message_is_posted_and_the_job_runs(
    socket: SlackSocketMode, socket_api: SocketStandIn, bot: Bot, tmp_path: Path
) -> None:
    await socket_api.link()
    envelope = slash_envelope("run demo", user=ADMIN, response_url=socket_api.response_url())

    ack = await socket_api.push(envelope)

    assert ack == {"envelope_id": envelope["envelope_id"]}  # empty: the job's message follows
    await socket_api.until(lambda: "chat.postMessage" in socket_api.methods())
    [(_, posted, authorization)] = [c for c in socket_api.calls if c[0] == "chat.postMessage"]
    assert authorization == f"Bearer {BOT_TOKEN}"  # the Web API still uses the bot token
    assert posted["channel"] == "C0OPS"
    assert posted["text"].split("\n\n", 1)[1].startswith("Job #1 · demo started — queued")
    await bot.executor.idle()
    with sqlite3.connect(tmp_path / "bot.db") as db:
        rows = db.execute("SELECT id, target, state FROM jobs").fetchall()
    assert rows == [(1, "demo", "succeeded")]


async def test_a_slow_answer_is_acked_then_sent_to_the_response_url(
    socket: SlackSocketMode, socket_api: SocketStandIn, adapter: SlackAdapter
) -> None:
    adapter.slash.ack_budget = 0.0  # every answer is "slow"
    await socket_api.link()
    envelope = slash_envelope("status", user=ADMIN, response_url=socket_api.response_url("r7"))

    ack = await socket_api.push(envelope)

    assert ack["payload"] == {"text": "Working on it…", "response_type": "ephemeral"}
    await socket_api.until(lambda: len(socket_api.responses) == 1)
    [answer] = socket_api.responses
    assert answer["text"].startswith("Export status")
    assert answer["replace_original"] is True


async def test_a_refresh_reconnects_on_a_new_url_and_keeps_serving(
    socket: SlackSocketMode, socket_api: SocketStandIn
) -> None:
    first = await socket_api.link(1)
    await socket_api.ask_to_reconnect(first)

    second = await socket_api.link(2)
    await socket_api.until(lambda: first.closed)

    assert second.ticket != first.ticket
    assert socket_api.methods().count("apps.connections.open") == 2
    ack = await socket_api.push(slash_envelope("help", user=ADMIN, response_url="http://unused/"))
    assert "/export run &lt;target&gt;" in ack["payload"]["text"]
    assert socket.connected


async def test_close_disconnects_and_leaves_nothing_running(
    adapter: SlackAdapter, socket_api: SocketStandIn
) -> None:
    before = asyncio.all_tasks()
    socket = SlackSocketMode(adapter.app, APP_TOKEN)
    await socket.start()
    await socket.start()  # idempotent: still one socket
    link = await socket_api.link()
    await socket_api.push(slash_envelope("help", user=ADMIN, response_url="http://unused/"))
    assert socket.connected

    await socket.close()
    await socket.close()  # idempotent

    await socket_api.until(lambda: link.closed)
    assert len(socket_api.links) == 1  # closing did not trigger a reconnection
    assert not socket.connected
    assert asyncio.all_tasks() == before
    gc.collect()  # an unclosed aiohttp session would warn here (filterwarnings=error)
    with pytest.raises(RuntimeError, match="closed"):
        await socket.start()


async def test_close_lets_an_envelope_in_flight_be_acked(
    adapter: SlackAdapter, socket_api: SocketStandIn
) -> None:
    in_flight = asyncio.Event()

    async def slow_down(next: Callable[[], Awaitable[None]]) -> None:  # Bolt injects by name
        in_flight.set()
        await asyncio.sleep(0.3)
        await next()

    adapter.app.middleware(slow_down)  # every envelope now takes 0.3 s before its listener
    socket = SlackSocketMode(adapter.app, APP_TOKEN)
    await socket.start()
    link = await socket_api.link()
    envelope = slash_envelope("help", user=ADMIN, response_url="http://unused/")
    await link.socket.send_json(envelope)
    await asyncio.wait_for(in_flight.wait(), 5)

    await socket.close()  # arrives while the envelope is being handled

    [ack] = link.received
    assert ack["envelope_id"] == envelope["envelope_id"]
    assert "/export run &lt;target&gt;" in ack["payload"]["text"]
    await socket_api.until(lambda: link.closed)


async def test_a_bot_token_is_refused_at_once(
    adapter: SlackAdapter, socket_api: SocketStandIn
) -> None:
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        SlackSocketMode(adapter.app, BOT_TOKEN)


async def test_a_refused_app_token_fails_start_instead_of_retrying_forever(
    adapter: SlackAdapter, socket_api: SocketStandIn
) -> None:
    before = asyncio.all_tasks()
    socket = SlackSocketMode(adapter.app, "xapp-1-revoked")
    async with asyncio.timeout(5):
        with pytest.raises(SlackApiError, match="not_allowed_token_type"):
            await socket.start()
    assert socket_api.links == []
    assert asyncio.all_tasks() == before
    gc.collect()


async def test_serve_with_only_an_app_token_uses_socket_mode_and_mounts_no_http_route(
    tmp_path: Path, socket_api: SocketStandIn
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        data_dir=str(tmp_path / "var"),
        admins=[f"slack:{TEAM}:{ADMIN}"],
        slack_app_token=APP_TOKEN,  # type: ignore[arg-type]
        slack_bot_token=BOT_TOKEN,  # type: ignore[arg-type]
        slack_api_url=socket_api.api_url,
        scheduler=False,
    )
    server = TestServer(create_app(settings), host="127.0.0.1")
    async with server, TestClient(server) as client:
        link = await socket_api.link()
        ack = await socket_api.push(slash_envelope("help", user=ADMIN, response_url=""), link=link)
        assert "/export run &lt;target&gt;" in ack["payload"]["text"]
        # Without a signing secret nothing on HTTP could be verified: the route is absent.
        assert (await client.post("/slack/events", data="x")).status == 404
