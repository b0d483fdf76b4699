"""What the core knows of the console (core/app/platforms.py): its people are on this
machine, so it is always served; nobody there can be messaged later."""

from __future__ import annotations

from core.app.platforms import PlatformProfile

PROFILE = PlatformProfile("console", local=True)
