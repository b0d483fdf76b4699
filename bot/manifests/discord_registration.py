"""`exportbot discord register`: the application commands pushed to Discord in one bulk
overwrite, globally (Discord may take up to an hour to show them everywhere) or in one guild
(at once, for trying them out)."""

from __future__ import annotations

from adapters.discord.rest import DiscordRest
from bot.manifests.discord import discord_commands, validate

GLOBAL = "/applications/{application_id}/commands"
IN_GUILD = "/applications/{application_id}/guilds/{guild_id}/commands"


async def register_commands(
    token: str, application_id: str, api_url: str, guild: str = ""
) -> list[str]:
    """Overwrite the application's commands with the registry's; the names Discord kept."""
    commands = discord_commands()
    problems = validate(commands)
    if problems:
        raise ValueError("The commands break Discord's limits:\n" + "\n".join(problems))
    rest = DiscordRest(token, api_url)
    await rest.start()
    try:
        route = {"application_id": application_id or rest.bot_user_id}
        if guild:
            route["guild_id"] = guild
        kept = await rest.request("PUT", IN_GUILD if guild else GLOBAL, json=commands, route=route)
    finally:
        await rest.close()
    return [str(command["name"]) for command in kept]
