"""What the core knows of outbound webhooks (core/app/platforms.py). A webhook's destination
is `("webhook", <format>, <id>)`, so each format has its own pace."""

from __future__ import annotations

from core.app.platforms import PlatformProfile
from core.delivery.pacing import Pace
from core.delivery.webhooks import WEBHOOK_PLATFORM

# Slack's incoming webhooks keep to 1/s; Discord's allow about 30 a minute per webhook;
# Workflows flows are throttled per flow; our signed JSON: the receiver's, so generous.
PROFILE = PlatformProfile(
    WEBHOOK_PLATFORM,
    workspace_paces={
        "slack": Pace(1.0, 1),
        "discord": Pace(0.5, 5),
        "teams": Pace(1.0, 4),
        "json": Pace(10.0, 10),
    },
)
