"""The Discord sender through discord.py's REST client against the stand-in: threads, DMs,
uploads with alt text, nonce-enforced posts, errors as the dispatcher honours them, and the
global limit kept when one alert goes to many channels."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from discord.http import Route

from adapters.discord.rest import DiscordRest
from adapters.discord.sender import DiscordSender
from core.delivery.senders import DeliveryError, Upload
from core.domain.model import Actor, Principal
from core.views.message import Image, Message
from tests.adapters.discord_harness import ALICE_ID, discord_harness
from tests.adapters.discord_standin import (
    BOT_TOKEN,
    CHANNEL_ID,
    GUILD_ID,
    DiscordStandIn,
    discord_standin,
)

CARD = Message(title="Job #7 · demo", status="failed")


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        yield running


@pytest.fixture
async def sender(standin: DiscordStandIn) -> AsyncIterator[DiscordSender]:
    base = Route.BASE
    rest = DiscordRest(BOT_TOKEN, standin.api_base)
    await rest.start()

    async def english(_: str) -> str:
        return "en"

    try:
        yield DiscordSender(rest, english)
    finally:
        await rest.close()
        Route.BASE = base


async def test_a_reply_starts_the_messages_thread_once_then_posts_in_it(
    sender: DiscordSender, standin: DiscordStandIn
) -> None:
    alert = await sender.post(CHANNEL_ID, CARD)
    first = await sender.reply(alert, Message(title="Job #8 · demo", status="failed"))
    second = await sender.reply(alert, Message(title="Job #9 · demo", status="failed"))
    assert first.thread_id == second.thread_id == alert.message_id
    [started] = standin.bodies("POST /channels/{channel_id}/messages/{message_id}/threads")
    assert started["name"] == "Job #7 · demo — failed"  # the thread is named after its message
    in_thread = [
        r for r in standin.requests_to("POST /channels/{channel_id}/messages") if r.status == 200
    ]
    assert [r.params["channel_id"] for r in in_thread] == [CHANNEL_ID] + [alert.message_id] * 2
    edited = await sender.update(alert, Message(title="Job #7 · demo", status="failed (3 alerts)"))
    assert (
        edited == alert and "3 alerts" in standin.messages[alert.message_id]["embeds"][0]["title"]
    )


async def test_a_post_retried_with_its_key_returns_the_first_message(
    sender: DiscordSender, standin: DiscordStandIn
) -> None:
    once = await sender.post(CHANNEL_ID, CARD, key="delivery-41")
    again = await sender.post(CHANNEL_ID, CARD, key="delivery-41")  # after a crash
    other = await sender.post(CHANNEL_ID, CARD, key="delivery-42")
    assert once == again != other
    bodies = standin.bodies("POST /channels/{channel_id}/messages")
    assert bodies[0]["enforce_nonce"] is True and len(bodies[0]["nonce"]) <= 25


async def test_a_private_message_opens_the_dm_channel_and_an_upload_keeps_its_alt_text(
    sender: DiscordSender, standin: DiscordStandIn
) -> None:
    sent = await sender.private(ALICE_ID, CARD)
    assert standin.bodies("POST /users/@me/channels") == [{"recipient_id": ALICE_ID}]
    assert sent.channel == standin.dm_channels[ALICE_ID]["id"]
    chart = Upload("sizes.png", b"\x89PNG\r\n\x1a\n", "Archive sizes", "Sizes of the last 30 runs")
    await sender.upload(CHANNEL_ID, chart)
    [uploaded] = [r for r in standin.requests_to("POST /channels/{channel_id}/messages") if r.parts]
    [attachment] = standin.messages[
        next(m for m in standin.messages if standin.messages[m]["attachments"])
    ]["attachments"]
    assert attachment["description"] == "Sizes of the last 30 runs"
    assert uploaded.files()[0].data == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("status", "permanent"), [(403, True), (404, True), (400, True), (503, False)]
)
async def test_refusals_become_what_the_dispatcher_honours(
    sender: DiscordSender, standin: DiscordStandIn, status: int, permanent: bool
) -> None:
    standin.fail_next("POST /channels/{channel_id}/messages", status=status)
    with pytest.raises(DeliveryError) as failed:
        await sender.post(CHANNEL_ID, CARD)
    assert failed.value.permanent is permanent
    assert str(status) in failed.value.detail


async def test_a_route_429_is_waited_out_by_discord_py_and_the_post_lands(
    sender: DiscordSender, standin: DiscordStandIn
) -> None:
    standin.rate_limit_next("POST /channels/{channel_id}/messages", retry_after=0.2)
    sent = await sender.post(CHANNEL_ID, CARD)
    statuses = [r.status for r in standin.requests_to("POST /channels/{channel_id}/messages")]
    assert statuses == [429, 200] and sent.message_id in standin.messages


async def test_one_alert_to_sixty_channels_stays_under_the_global_limit(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    broken = {"name": "broken", "kind": "command", "command": ["sh", "-c", "exit 3"]}
    channels = [str(1400000000000000000 + n) for n in range(60)]
    async with discord_harness(tmp_path, standin, targets=[broken]) as discord:
        for channel in channels:
            alice = Actor(Principal("discord", GUILD_ID, ALICE_ID), "Alice", "en", channel)
            await discord.bot.service.execute_text("subscribe broken failed", alice)
        await discord.bot.service.execute_text("run broken", alice)
        await discord.eventually(
            "SELECT count(*) FROM deliveries WHERE state = 'sent'", [(61,)], seconds=15
        )
    posts = standin.requests_to("POST /channels/{channel_id}/messages")
    assert {r.params["channel_id"] for r in posts if r.status == 200} >= set(channels)
    assert [r for r in standin.requests if r.status == 429] == []  # 50/s never exceeded


async def test_an_image_the_message_carries_goes_as_a_file_with_its_alt_text(
    sender: DiscordSender, standin: DiscordStandIn
) -> None:
    png = b"\x89PNG\r\n\x1a\n chart"
    chart = Image("data:image/png;base64," + base64.b64encode(png).decode(), "Sizes, rising")
    sent = await sender.post(CHANNEL_ID, Message(title="Quota of demo", images=(chart,)))
    [attachment] = standin.messages[sent.message_id]["attachments"]
    assert attachment["description"] == "Sizes, rising"
    [request] = standin.requests_to("POST /channels/{channel_id}/messages")
    assert request.files()[0].data == png
