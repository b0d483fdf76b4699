"""What the core knows of Slack (core/app/platforms.py)."""

from __future__ import annotations

from adapters.slack.surface import PREFIX
from core.app.platforms import PlatformProfile
from core.delivery.pacing import Pace

# About one message a second per channel (PLATFORMS.md).
# Slack takes files up to 1 GB through its external upload (files.getUploadURLExternal).
PROFILE = PlatformProfile(
    "slack", prefix=PREFIX, pace=Pace(1.0, 1), chat=True, upload_limit=1_000_000_000
)
