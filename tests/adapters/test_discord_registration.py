"""`exportbot discord register`: the generated commands pushed by bulk overwrite, globally or
in one guild, through the API the bot is configured with."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from bot.manifests.discord import discord_commands
from tests.adapters.discord_standin import APP_ID, BOT_TOKEN, GUILD_ID, discord_standin
from tests.e2e.conftest import EXPORTBOT, clean_env


async def _register(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        EXPORTBOT,
        "discord",
        "register",
        *args,
        cwd=tmp_path,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_register_overwrites_the_guilds_commands_with_the_generated_ones(
    tmp_path: Path,
) -> None:
    async with discord_standin() as standin:
        env = {
            "DISCORD_BOT_TOKEN": BOT_TOKEN,
            "DISCORD_APPLICATION_ID": APP_ID,
            "EXPORTBOT_DISCORD_API_URL": standin.api_base,
        }
        code, out, err = await _register(tmp_path, "--guild", GUILD_ID, **env)
        assert code == 0, err
        assert out.strip() == (
            f"Registered /export, /export-admin, Annotate export job in guild {GUILD_ID}."
        )
        [put] = standin.requests_to("PUT /applications/{application_id}/guilds/{guild_id}/commands")
        assert put.params == {"application_id": APP_ID, "guild_id": GUILD_ID}
        assert put.json == discord_commands()
        assert put.headers["Authorization"] == f"Bot {BOT_TOKEN}"

        code, out, _ = await _register(tmp_path, **env)  # globally
        assert code == 0 and "every guild" in out
        assert standin.requests_to("PUT /applications/{application_id}/commands")


async def test_register_without_a_bot_token_says_what_is_missing(tmp_path: Path) -> None:
    code, out, err = await _register(tmp_path)
    assert code == 2 and out == ""
    assert "DISCORD_BOT_TOKEN is not set" in err


async def test_register_with_a_token_discord_refuses_says_so_without_a_traceback(
    tmp_path: Path,
) -> None:
    async with discord_standin() as standin:
        env = {"DISCORD_BOT_TOKEN": "wrong", "EXPORTBOT_DISCORD_API_URL": standin.api_base}
        code, _, err = await _register(tmp_path, **env)
    assert code == 69  # EX_UNAVAILABLE
    assert err.startswith("Could not register the commands:") and "Traceback" not in err
