"""Slack (A1): slash command, buttons, modals, thread notes, App Home, proactive sender."""

from adapters.slack.adapter import SlackAdapter
from adapters.slack.profile import PROFILE

__all__ = ["PROFILE", "SlackAdapter"]
