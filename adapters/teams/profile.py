"""What the core knows of Microsoft Teams (core/app/platforms.py)."""

from __future__ import annotations

from core.app.platforms import PlatformProfile
from core.delivery.pacing import Pace

# People address the bot in a message (`export help`), not with a slash command. Teams takes 7
# messages a second per conversation, and 60 per 30 s, which 1.0/s keeps (PLATFORMS.md).
PROFILE = PlatformProfile("teams", prefix="export ", pace=Pace(1.0, 7), chat=True)
