"""Outbound webhooks (A5): alerts to Slack, Discord, Teams Workflows or signed JSON URLs."""

from adapters.webhooks.guard import guarded_session
from adapters.webhooks.profile import PROFILE
from adapters.webhooks.sender import WebhookSender, webhook_senders

__all__ = ["PROFILE", "WebhookSender", "guarded_session", "webhook_senders"]
