"""What the core knows of Discord (core/app/platforms.py)."""

from __future__ import annotations

from adapters.discord.commands import ADMIN_COMMAND, ADMIN_VERBS
from core.app.platforms import PlatformProfile
from core.delivery.pacing import Pace

# Per-route buckets of about 5 per 5 s, far under the 50/s a bot may send globally.
# A bot's message may carry 10 MiB of attachments; a little is left for the multipart body.
PROFILE = PlatformProfile(
    "discord",
    prefix="/export ",
    verb_prefixes={verb: f"/{ADMIN_COMMAND} " for verb in ADMIN_VERBS},
    pace=Pace(1.0, 5),
    chat=True,
    upload_limit=10_000_000,
)
