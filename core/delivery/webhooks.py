"""Outbound webhooks (A5): alerts to a URL, with no bot installed on the other side.

A webhook is a destination of its own (`Webhook.destination`: platform `webhook`, the format as
its workspace, the webhook's id as its channel): the URL is a secret, so it lives in its own
table and never in a delivery row, a log or a reply. This module is the one place that spells
the `webhook` platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from core.commands.suggest import suggest
from core.delivery.addresses import host_refusal
from core.delivery.sender_keys import SenderKey
from core.domain.subscriptions import Destination
from core.errors import InvalidCommand

WEBHOOK_PLATFORM = "webhook"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class WebhookFormat(StrEnum):
    SLACK = "slack"  # Slack incoming webhook: Block Kit + text
    DISCORD = "discord"  # Discord channel webhook: embed
    TEAMS = "teams"  # Teams Workflows ("Post to a channel when a webhook request is received")
    JSON = "json"  # anything else: our JSON, signed with HMAC-SHA256


@dataclass(frozen=True)
class Webhook:
    format: WebhookFormat
    url: str
    created_by: str
    created_at: datetime
    id: int | None = None

    @property
    def shown(self) -> str:
        return shown_url(self.url)

    @property
    def destination(self) -> Destination:
        """Where its alerts are delivered (a saved webhook: `id` is set)."""
        return Destination(WEBHOOK_PLATFORM, self.format.value, str(self.id))


def webhook_sender_key(fmt: WebhookFormat) -> SenderKey:
    """The key of the sender for every webhook of a format (`webhook:slack`…)."""
    return SenderKey(WEBHOOK_PLATFORM, fmt.value)


# Office 365 connectors (incoming webhooks in Teams) are retired; Workflows replace them.
_RETIRED_TEAMS_HOSTS = ("webhook.office.com", "outlook.office.com", "outlook.office365.com")


def detect_format(url: str) -> WebhookFormat:
    host = (urlsplit(url).hostname or "").lower()
    path = urlsplit(url).path
    if host == "hooks.slack.com":
        return WebhookFormat.SLACK
    if host.endswith(("discord.com", "discordapp.com")) and "/webhooks/" in path:
        return WebhookFormat.DISCORD
    if host.endswith(("logic.azure.com", "powerplatform.com", "powerautomate.com")):
        return WebhookFormat.TEAMS
    return WebhookFormat.JSON


def parse_format(text: str) -> WebhookFormat:
    try:
        return WebhookFormat(text.lower())
    except ValueError:
        choices = [f.value for f in WebhookFormat]
        raise InvalidCommand(
            "error.bad_webhook_format",
            value=text,
            choices=", ".join(choices),
            closest=suggest(text.lower(), choices) or "—",
        ) from None


def checked_url(url: str, *, allow_private: bool = False) -> str:
    """The URL if a webhook may be sent there; InvalidCommand saying why not otherwise.

    Refused: anything but http(s), user names or passwords in the URL, and hosts that are this
    machine, a private network or a metadata service (`core.delivery.addresses`) unless
    `allow_private`.
    The sender checks the addresses again when it connects (a name may resolve anywhere)."""
    try:
        parts = urlsplit(bare_url(url))
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - read to refuse a port that is not a number below 65536
    except ValueError:
        raise InvalidCommand("error.webhook_not_url", value=shown_url(url)) from None
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidCommand("error.webhook_not_url", value=shown_url(url))
    if "@" in parts.netloc:
        raise InvalidCommand("error.webhook_userinfo", value=host)
    refusal = host_refusal(host, allow_private=allow_private)
    if refusal is not None:
        raise InvalidCommand(f"error.webhook_address.{refusal.value}", value=host)
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise InvalidCommand("error.webhook_not_https", value=shown_url(url))
    if host.endswith(_RETIRED_TEAMS_HOSTS):
        raise InvalidCommand("error.webhook_retired_connector", value=host)
    return parts.geturl()


def bare_url(text: str) -> str:
    """Slack wraps links it recognises: `<https://x/y>` or `<https://x/y|x/y>`."""
    return text.strip().strip("<>").split("|")[0]


def shown_url(url: str) -> str:
    """Enough of a webhook URL to recognise it, not enough to use it: host and the last
    four characters (its path carries the secret)."""
    try:
        parts = urlsplit(bare_url(url))
    except ValueError:  # an unclosed `[`: nothing safe to show
        return "?"
    tail = parts.path.rstrip("/")[-4:]
    return f"{parts.hostname or '?'}/…{tail}" if tail else parts.hostname or "?"
