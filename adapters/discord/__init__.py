"""Discord (A3): application commands and interactions over HTTP, discord.py as REST client."""

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.profile import PROFILE

__all__ = ["PROFILE", "DiscordAdapter"]
