"""The HTTP server as a component (bot/http_server.py): entered twice it starts once, it
serves while entered, and leaving it stops the app (its cleanup runs) and frees the port."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.http_server import HttpServer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def test_the_server_starts_once_serves_and_stops_its_app_on_the_last_exit() -> None:
    events: list[str] = []

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        events.append("started")
        yield
        events.append("stopped")

    app = web.Application()
    app.router.add_get("/", hello)
    app.cleanup_ctx.append(lifecycle)
    port = _free_port()
    server = HttpServer(app, "127.0.0.1", port, shutdown_timeout=1.0, keepalive_timeout=5.0)
    async with server, server:  # a second enter is counted, not a second start
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/") as response,
        ):
            assert (response.status, await response.text()) == (200, "hello")
        assert events == ["started"]
    assert events == ["started", "stopped"]
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"http://127.0.0.1:{port}/")
