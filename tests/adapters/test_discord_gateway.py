"""Discord's gateway mode (A3, `DISCORD_GATEWAY=true`): discord.py's own gateway client, beside
the HTTP endpoint, against a loopback gateway; a message mentioning the bot (or replying to
it) in a job's thread is a note on that job (B3), confirmed in the thread."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import gateway as gateway_module
from bot.bootstrap import open_server
from tests.adapters.discord_gateway_harness import MENTION, GatewayHarness, gateway_harness
from tests.adapters.discord_gateway_standin import MESSAGE_CONTENT
from tests.adapters.discord_harness import discord_harness, harness_settings
from tests.adapters.discord_standin import (
    APP_ID,
    BOT_TOKEN,
    CHANNEL_ID,
    GUILD_ID,
    PEOPLE,
    DiscordStandIn,
    bot_user,
    discord_standin,
    ping,
    slash_command,
    user_object,
)

POSTS = "POST /channels/{channel_id}/messages"
GUILDS, GUILD_MESSAGES = 1 << 0, 1 << 9
CAROL = f"discord:{GUILD_ID}:{PEOPLE['carol'][0]}"


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        running.gateway_standin.heartbeat_interval_ms = 100  # a few beats within a test
        yield running


@pytest.fixture
async def bot(tmp_path: Path, standin: DiscordStandIn) -> AsyncIterator[GatewayHarness]:
    async with gateway_harness(tmp_path, standin) as harness:
        yield harness


async def test_identify_carries_the_token_and_the_intents_and_heartbeats_are_acked(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    [identify] = bot.gateway.identifies
    assert identify["token"] == BOT_TOKEN
    assert identify["intents"] == GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT
    assert identify["properties"]["browser"] == "discord.py"
    [session] = bot.gateway.sessions
    assert session.query["v"] == "10" and session.query["encoding"] == "json"
    await bot.gateway.wait(lambda: session.heartbeats >= 3)  # op 1, each answered by op 11
    # The address came from the REST API, as Discord asks.
    assert standin.requests_to("GET /gateway/bot")


async def test_a_mention_in_a_jobs_thread_is_a_note_on_that_job_confirmed_in_its_thread(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    first, second = await bot.run_job(), await bot.run_job()
    said = await bot.say(f"{MENTION} relaunched after host maintenance", channel_id=first)
    [(job, author, text, link)] = await bot.note_count(1)
    assert (job, author, text) == (1, CAROL, "relaunched after host maintenance")
    assert link == f"https://discord.com/channels/{GUILD_ID}/{first}/{said['id']}"
    told = await bot.posts_in(first, 2)  # the job's end, then the confirmation
    [confirmation] = [p for p in told if "relaunched" in p]
    assert "Carol" in confirmation and "#1" in confirmation
    assert not any("relaunched" in p for p in bot.posted_in(second))
    # The confirmation is remembered as the note's message, on job 1.
    assert bot.rows("SELECT job_id FROM posted_messages WHERE kind = 'note'") == [(1,)]
    [(audited,)] = bot.rows("SELECT count(*) FROM audit_log WHERE action = 'annotate'")
    assert audited == 1


async def test_a_thread_discord_py_knows_needs_no_lookup_and_one_it_does_not_needs_one(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    async with gateway_harness(tmp_path, standin) as bot:
        thread = await bot.run_job()  # THREAD_CREATE: discord.py keeps the thread
        await bot.say(f"{MENTION} first", channel_id=thread)
        await bot.note_count(1)
        assert standin.requests_to("GET /channels/{channel_id}") == []
    standin.gateway_standin.guild = None  # after a restart, the guild is late: not cached
    async with gateway_harness(tmp_path, standin) as bot:
        await bot.say(f"{MENTION} second", channel_id=thread)
        [_, (job, _, text, _)] = await bot.note_count(2)
        assert (job, text) == (1, "second")
        [asked] = standin.requests_to("GET /channels/{channel_id}")  # the parent, asked once
        assert asked.params["channel_id"] == thread
        await bot.say(f"{MENTION} third", channel_id=thread)
        await bot.note_count(3)
        assert len(standin.requests_to("GET /channels/{channel_id}")) == 1


async def test_after_a_restart_the_guilds_active_threads_are_known_at_once(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    async with gateway_harness(tmp_path, standin) as bot:
        thread = await bot.run_job()
    async with gateway_harness(tmp_path, standin) as bot:  # GUILD_CREATE lists the thread
        await bot.say(f"{MENTION} after the restart", channel_id=thread)
        [(job, _, text, _)] = await bot.note_count(1)
        assert (job, text) == (1, "after the restart")
        assert standin.requests_to("GET /channels/{channel_id}") == []


async def test_a_mention_in_a_thread_someone_started_on_an_alert_is_a_note_on_its_job(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    broken = {"name": "broken", "kind": "command", "command": ["false"]}
    alerts = "1300000000000000099"
    async with gateway_harness(tmp_path, standin, targets=[broken]) as bot:
        subscribe = slash_command("subscribe", {"target": "broken", "kinds": "failed"})
        subscribe["channel_id"] = alerts
        subscribe["channel"]["id"] = alerts
        assert (await bot.send(subscribe))[0] == 200
        await bot.send(slash_command("run", {"target": "broken"}))
        await bot.settle()
        [alert] = await bot.posts_in(alerts, 1)
        assert "failed" in alert
        alert_sql = (
            f"SELECT message_id FROM posted_messages WHERE kind = 'alert' AND channel = '{alerts}'"
        )
        await bot.eventually(f"SELECT count(*) FROM ({alert_sql})", [(1,)])
        [(alert_id,)] = bot.rows(alert_sql)
        # Someone opens a thread on the alert (Discord gives it the message's id).
        thread = await standin.start_thread(
            alerts, alert_id, "about this", owner=PEOPLE["carol"][0]
        )
        await bot.say(f"{MENTION} known issue, NAS firmware", channel_id=thread["id"])
        [(job, _, text, _)] = await bot.note_count(1)
        assert (job, text) == (1, "known issue, NAS firmware")
        [confirmation] = await bot.posts_in(thread["id"], 1)
        assert "known issue" in confirmation


async def test_a_reply_to_the_bots_message_in_the_thread_is_a_note_without_a_mention(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    thread = await bot.run_job()
    ended = [m for m in standin.messages.values() if m["channel_id"] == thread][-1]
    assert ended["author"]["id"] == bot_user()["id"]  # the bot told the job's end there
    await bot.say("disk swapped, fine now", channel_id=thread, mention=False, referenced=ended)
    [(job, _, text, _)] = await bot.note_count(1)
    assert (job, text) == (1, "disk swapped, fine now")


async def test_a_secret_in_a_note_from_the_thread_is_redacted_where_it_is_kept_and_shown(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    thread = await bot.run_job()
    await bot.say(f"{MENTION} retried with postgres://app:s3cret@db/app", channel_id=thread)
    [(_, _, text, _)] = await bot.note_count(1)
    assert "s3cret" not in text and "postgres://" in text
    [_, confirmation] = await bot.posts_in(thread, 2)
    assert "s3cret" not in confirmation


async def test_a_reply_to_a_jobs_own_message_in_the_channel_is_confirmed_in_its_thread(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    first = await bot.run_job()
    await bot.run_job()
    card = standin.messages[first]  # job 1's message, in the channel
    await bot.say("that one was me", channel_id=CHANNEL_ID, mention=False, referenced=card)
    [(job, _, text, _)] = await bot.note_count(1)
    assert (job, text) == (1, "that one was me")
    [_, confirmation] = await bot.posts_in(first, 2)  # in the thread, not the channel
    assert "that one was me" in confirmation
    assert bot.posted_in(CHANNEL_ID) == []


async def test_bots_webhooks_and_messages_outside_a_jobs_thread_do_nothing(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    thread = await bot.run_job()
    assert len(bot.posted_in(thread)) == 1  # the job's end
    other_bot = {**user_object("deploybot"), "bot": True}
    await bot.say(f"{MENTION} from a bot", channel_id=thread, author=other_bot)
    await bot.say(f"{MENTION} from myself", channel_id=thread, author=bot_user())
    await bot.say(f"{MENTION} from a webhook", channel_id=thread, webhook_id=APP_ID)
    await bot.say(f"{MENTION} in the channel itself", channel_id=CHANNEL_ID)
    await bot.say(f"{MENTION} in a thread of no job", channel_id="1300000000000000777")
    await bot.say("not addressed to the bot", channel_id=thread, mention=False)
    await bot.say(f"{MENTION} the one that counts", channel_id=thread)  # then it is heard
    [(_, _, text, _)] = await bot.note_count(1)
    assert text == "the one that counts"
    [_, confirmation] = await bot.posts_in(thread, 2)  # its confirmation, nothing else
    assert "the one that counts" in confirmation
    assert bot.posted_in(CHANNEL_ID) == [] and bot.posted_in("1300000000000000777") == []
    assert bot.rows("SELECT count(*) FROM audit_log WHERE action = 'annotate'") == [(1,)]


async def test_a_message_delivered_twice_is_noted_once(bot: GatewayHarness) -> None:
    thread = await bot.run_job()
    said = await bot.say(f"{MENTION} noted once", channel_id=thread)
    await bot.gateway.dispatch("MESSAGE_CREATE", said)  # a resumed session replays it
    await bot.say(f"{MENTION} the next one", channel_id=thread)
    notes = await bot.note_count(2)
    assert [text for _, _, text, _ in notes] == ["noted once", "the next one"]
    await bot.settle()
    assert [t for _, _, t, _ in bot.notes()] == ["noted once", "the next one"]


async def test_a_failed_start_is_logged_and_tried_again(
    tmp_path: Path, standin: DiscordStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.fail_next("GET /gateway/bot", status=503)  # Discord's API is down a moment
    with caplog.at_level(logging.WARNING, logger=gateway_module.__name__):
        async with gateway_harness(tmp_path, standin) as bot:  # waits for the IDENTIFY
            assert len(standin.requests_to("GET /gateway/bot")) == 2
            assert bot.gateway.identifies[0]["token"] == BOT_TOKEN
    assert any("starting again in 1 s" in r.getMessage() for r in caplog.records)


async def test_an_empty_mention_in_a_jobs_thread_says_how_to_annotate(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    thread = await bot.run_job()
    await bot.say(MENTION, channel_id=thread)
    [_, told] = await bot.posts_in(thread, 2)  # the job's end, then how to write a note
    assert "Help · annotate" in told
    await bot.settle()
    assert bot.notes() == []


async def test_someone_without_the_right_is_told_privately_and_nothing_is_noted(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    async with gateway_harness(tmp_path, standin) as bot:
        thread = await bot.run_job()
        await bot.say(f"{MENTION} I was here", person="bob", channel_id=thread)  # no role
        opened = await standin.wait_for("POST /users/@me/channels", 2)  # after Alice's run
        assert PEOPLE["bob"][0] in {r.json["recipient_id"] for r in opened}  # Bob, privately
        await bot.settle()
        assert bot.notes() == []
        assert not any("I was here" in p for p in bot.posted_in(thread))
        dm = standin.dm_channels[PEOPLE["bob"][0]]["id"]
        [refused] = await bot.posts_in(dm, 1)
        assert "annotate" in refused


async def test_a_dropped_connection_is_resumed_and_notes_still_land(
    bot: GatewayHarness, standin: DiscordStandIn
) -> None:
    thread = await bot.run_job()
    await bot.gateway.drop(4000)  # Discord restarts the gateway node
    await bot.gateway.wait(lambda: len(bot.gateway.resumes) == 1)
    await bot.say(f"{MENTION} after the reconnect", channel_id=thread)
    [(_, _, text, _)] = await bot.note_count(1)
    assert text == "after the reconnect"
    assert bot.discord.gateway is not None and bot.discord.gateway.starts == 1


async def test_shutdown_closes_the_gateway_cleanly_and_quickly(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    async with gateway_harness(tmp_path, standin) as bot:
        gateway = bot.discord.gateway
        assert gateway is not None and gateway.client is not None
        started = time.monotonic()
    assert time.monotonic() - started < gateway_module.CLOSE_WITHIN
    await standin.gateway_standin.wait_closed()
    # A close frame from the client, not a dropped line (1006, none). discord.py's close
    # wakes its own read loop first, which says 4000 before the 1000 it meant.
    [code] = standin.gateway_standin.closed_codes
    assert code in (1000, 4000)
    assert gateway.client is None


async def test_without_the_message_content_intent_it_says_so_and_interactions_still_work(
    tmp_path: Path, standin: DiscordStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    standin.gateway_standin.granted_intents = 0
    with caplog.at_level(logging.ERROR, logger=gateway_module.__name__):
        async with discord_harness(tmp_path, standin, discord_gateway=True) as bot:
            await standin.gateway_standin.wait(lambda: standin.gateway_standin.closed_codes != [])
            assert standin.gateway_standin.closed_codes == [4014]
            assert await bot.send(ping()) == (200, {"type": 1})
            gateway = bot.discord.gateway
            assert gateway is not None and gateway.starts == 1  # not tried again and again
    assert any(re.search("Message Content intent", r.getMessage()) for r in caplog.records)


async def test_gateway_mode_without_a_bot_token_stays_off_and_says_why(
    tmp_path: Path, standin: DiscordStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    settings = harness_settings(tmp_path, standin, discord_gateway=True)
    settings.discord_bot_token = None
    with caplog.at_level(logging.WARNING, logger="bot.bootstrap"):
        async with open_server(settings) as server:
            assert server.discord is not None and server.discord.gateway is None
            assert "discord" in server.live
    assert any("DISCORD_GATEWAY needs DISCORD_BOT_TOKEN" in r.getMessage() for r in caplog.records)
    assert standin.gateway_standin.connections == 0


async def test_gateway_mode_is_off_unless_asked(tmp_path: Path, standin: DiscordStandIn) -> None:
    async with discord_harness(tmp_path, standin) as bot:
        assert bot.discord.gateway is None
        assert await bot.send(ping()) == (200, {"type": 1})
    assert standin.gateway_standin.connections == 0
