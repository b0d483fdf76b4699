"""Exactly once across a crash (C1): `exportbot serve` is killed (SIGKILL) while Slack holds
its answers to alerts it has already posted; a new process delivers the rest and posts none
of them twice — counted by message at the Slack stand-in."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.bootstrap import open_bot
from bot.config import load_settings
from core.domain.events import EventKind, OutboxEvent
from core.domain.subscriptions import Destination, Severity, Subscription, parse_kinds
from tests.adapters.slack_standin import TEAM, SlackStandIn, slack_standin
from tests.e2e.conftest import EXPORTBOT, clean_env, query

CHANNELS = [f"C0CRASH{n}" for n in range(5)]
EVENTS = 3
SECRET = "crash-test-signing-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(workdir: Path) -> Path:
    config = workdir / "exportbot.toml"
    config.write_text(
        f"""
database_url = "sqlite+aiosqlite:///{workdir / "bot.db"}"
data_dir = "{workdir / "var"}"
scheduler = false
alert_group_minutes = 0      # one top-level message per alert: easy to count
alert_digest_per_minute = 0
delivery_lease_seconds = 2   # the second process takes over the dead one's claims quickly

[[targets]]
name = "demo"
kind = "command"
command = ["true"]
""",
        encoding="utf-8",
    )
    return config


async def _seed(config: Path) -> None:
    """Five channels subscribe to `demo`'s missed runs; three runs were missed."""
    settings = load_settings(str(config))
    now = datetime.now(UTC)
    async with open_bot(settings) as bot, bot.uow_factory() as uow:
        for channel in CHANNELS:
            await uow.subscriptions.save(
                Subscription(
                    Destination("slack", TEAM, channel),
                    "demo",
                    parse_kinds("missed"),
                    Severity.INFO,
                    "test",
                    now,
                )
            )
        for n in range(EVENTS):
            fire = f"2026-11-25T0{n}:00:00+00:00"
            await uow.outbox.add(
                OutboxEvent(EventKind.RUN_MISSED, "demo", now, {"fire_time": fire})
            )
        await uow.commit()


async def _serve(config: Path, standin: SlackStandIn) -> asyncio.subprocess.Process:
    env = clean_env(
        EXPORTBOT_CONFIG=str(config),
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN="xoxb-crash-test",
        EXPORTBOT_SLACK_API_URL=standin.api_url,
    )
    return await asyncio.create_subprocess_exec(
        EXPORTBOT,
        "serve",
        "--port",
        str(_free_port()),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


def _keys(standin: SlackStandIn) -> list[str]:
    """The delivery keys of every alert the stand-in kept, repeats included."""
    keys: list[str] = []
    for channel in CHANNELS:
        for message in standin.posts_to(channel):
            metadata = message.get("metadata") or {}
            if isinstance(metadata, str):
                metadata = json.loads(metadata)
            keys.extend(str(metadata.get("event_payload", {}).get("keys", "")).split())
    return keys


async def _until(condition: Callable[[], bool], seconds: float) -> None:
    """Poll: another process is doing the work."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - nothing here to wait on but the table
            await asyncio.sleep(0.1)


async def test_a_dispatcher_killed_mid_delivery_posts_every_alert_exactly_once(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path)
    await _seed(config)
    db = tmp_path / "bot.db"
    async with slack_standin() as standin:
        standin.hold_posts = 60  # Slack keeps each message, and the bot never hears back
        first = await _serve(config, standin)
        try:
            await _until(lambda: len(_keys(standin)) >= 3, 30)  # posted, never answered
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        posted_before_the_kill = len(_keys(standin))
        assert query(db, "SELECT count(*) FROM deliveries WHERE state = 'sent'") == [(0,)]

        standin.hold_posts = 0
        second = await _serve(config, standin)
        try:
            await _until(
                lambda: (
                    query(db, "SELECT count(*) FROM deliveries WHERE state = 'sent'")
                    == [(len(CHANNELS) * EVENTS,)]
                ),
                60,
            )
        finally:
            second.send_signal(signal.SIGTERM)
            _, stderr = await second.communicate()
        assert "Traceback" not in stderr.decode()

    keys = _keys(standin)
    assert len(keys) == len(set(keys)) == len(CHANNELS) * EVENTS  # each alert exactly once
    assert posted_before_the_kill >= 3
    # Those posted before the kill were found in the channels' history, not posted again.
    recalled = [c for c in standin.called("conversations.history") if c.get("include_all_metadata")]
    assert len(recalled) >= posted_before_the_kill
