"""The gateway stand-in speaks the protocol whatever compression the client asks for (discord.py
asks zstd-stream when zstandard is installed, zlib-stream otherwise), and refuses a wrong
token as Discord does."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import zstandard

from tests.adapters.discord_gateway_standin import AUTHENTICATION_FAILED, HELLO
from tests.adapters.discord_standin import BOT_TOKEN, DiscordStandIn, discord_standin


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        yield running


class _Reader:
    def __init__(self, compress: str) -> None:
        self._zlib = zlib.decompressobj() if compress == "zlib-stream" else None
        zstd = zstandard.ZstdDecompressor()
        self._zstd = zstd.decompressobj() if compress == "zstd-stream" else None

    def read(self, message: aiohttp.WSMessage) -> Any:
        if message.type is aiohttp.WSMsgType.TEXT:
            assert self._zlib is None and self._zstd is None  # compressed when asked
            return json.loads(message.data)
        assert message.type is aiohttp.WSMsgType.BINARY, message
        if self._zlib is not None:
            assert message.data.endswith(b"\x00\x00\xff\xff")  # Z_SYNC_FLUSH, as Discord's
            return json.loads(self._zlib.decompress(message.data))
        assert self._zstd is not None
        return json.loads(self._zstd.decompress(message.data))


@pytest.mark.parametrize("compress", ["", "zlib-stream", "zstd-stream"])
async def test_hello_identify_ready_and_a_dispatch_in_each_compression(
    standin: DiscordStandIn, compress: str
) -> None:
    gateway = standin.gateway_standin
    query = "?v=10&encoding=json" + (f"&compress={compress}" if compress else "")
    reader = _Reader(compress)
    async with aiohttp.ClientSession() as session, session.ws_connect(gateway.url + query) as ws:
        hello = reader.read(await ws.receive())
        assert hello["op"] == HELLO and hello["d"]["heartbeat_interval"] > 0
        await ws.send_json({"op": 1, "d": None})
        assert reader.read(await ws.receive()) == {"op": 11}
        await ws.send_json({"op": 2, "d": {"token": BOT_TOKEN, "intents": 1, "properties": {}}})
        ready = reader.read(await ws.receive())
        assert (ready["t"], ready["s"]) == ("READY", 1)
        assert ready["d"]["resume_gateway_url"] == gateway.url
        guild = reader.read(await ws.receive())
        assert (guild["t"], guild["s"]) == ("GUILD_CREATE", 2)
        await gateway.wait_identified()
        await gateway.dispatch("MESSAGE_CREATE", {"content": "x" * 10_000})
        said = reader.read(await ws.receive())
        assert (said["t"], said["s"], len(said["d"]["content"])) == ("MESSAGE_CREATE", 3, 10_000)


async def test_a_wrong_token_is_closed_with_4004(standin: DiscordStandIn) -> None:
    gateway = standin.gateway_standin
    async with aiohttp.ClientSession() as session, session.ws_connect(gateway.url) as ws:
        await ws.receive()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": "not the token", "intents": 0}})
        closing = await ws.receive()
        assert closing.type is aiohttp.WSMsgType.CLOSE and closing.data == AUTHENTICATION_FAILED
    assert gateway.identifies == []
