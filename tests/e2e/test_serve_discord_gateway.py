"""`exportbot serve` with `DISCORD_GATEWAY=true`: the real process connects to the loopback
gateway beside its HTTP endpoint, and SIGTERM ends it cleanly and quickly."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from tests.adapters.discord_harness import PUBLIC_KEY
from tests.adapters.discord_standin import APP_ID, BOT_TOKEN, GUILD_ID, discord_standin
from tests.e2e.conftest import EXPORTBOT, clean_env
from tests.e2e.test_serve import _free_port

INTENTS = (1 << 0) | (1 << 9) | (1 << 15)  # guilds, guild messages, message content


async def test_serve_with_gateway_mode_identifies_then_stops_cleanly_on_sigterm(
    workdir: Path,
) -> None:
    async with discord_standin() as standin:
        env = clean_env(
            DISCORD_PUBLIC_KEY=PUBLIC_KEY,
            DISCORD_BOT_TOKEN=BOT_TOKEN,
            DISCORD_APPLICATION_ID=APP_ID,
            DISCORD_GATEWAY="true",
            EXPORTBOT_DISCORD_API_URL=standin.api_base,
            EXPORTBOT_WORKSPACES=f"discord:{GUILD_ID}",
        )
        process = await asyncio.create_subprocess_exec(
            EXPORTBOT,
            "serve",
            "--port",
            str(_free_port()),
            cwd=workdir,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            gateway = standin.gateway_standin
            # A process starting on a busy machine: imports, migrations, then the gateway.
            await gateway.wait(lambda: bool(gateway.sessions), seconds=30)
            [identify] = gateway.identifies
            assert identify["token"] == BOT_TOKEN and identify["intents"] == INTENTS
        finally:
            process.send_signal(signal.SIGTERM)
            asked = time.monotonic()
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
        took = time.monotonic() - asked
        await gateway.wait(lambda: gateway.connections == len(gateway.closed_codes), seconds=30)
    text = stderr.decode()
    assert process.returncode == 0, text
    assert "platforms live: console, discord (gateway)" in text
    assert "Traceback" not in text
    assert "interaction endpoint URL" not in text  # discord.py's warning of what we intend
    assert "Discord gateway closed" in text
    assert took < 15, took  # the gateway's goodbye is bounded (5 s), the rest is quick
    [code] = gateway.closed_codes
    assert code in (1000, 4000)  # a close frame from the bot, not a dropped connection
