"""Discord (A3): application commands and interactions over HTTP, discord.py as REST client."""
