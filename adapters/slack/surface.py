"""Everything Slack must know about the app, in one place: the manifest is generated from it.

The slash command, shortcuts, events and scopes named here are the ones the listeners use;
`bot/manifests/slack.py` turns them into the app manifest, so the two cannot drift.
"""

from __future__ import annotations

COMMAND = "/export"
PREFIX = f"{COMMAND} "

# Shortcuts (callback ids). The message shortcut annotates the job a message belongs to.
SHORTCUT_ANNOTATE = "annotate_job"
SHORTCUT_NEW_DRAFT = "new_schedule_draft"

# Modal callback ids (view_submission).
MODAL_NOTE = "modal.note"
MODAL_DRAFT = "modal.draft"

BOT_EVENTS = ("app_home_opened", "app_mention")

# Bot scopes, each for a method the adapter calls.
BOT_SCOPES = (
    "app_mentions:read",  # app_mention events: notes from a job's thread
    # conversations.history/replies: after a crash, find an alert already posted (by the
    # delivery key in its metadata) instead of posting it twice
    "channels:history",
    "groups:history",
    "im:history",
    "chat:write",  # post, update and reply to job and draft messages
    "chat:write.public",  # post job messages in public channels the bot has not joined
    "commands",  # /export and the shortcuts
    "files:write",  # audit exports and charts as files
    "im:write",  # conversations.open for private messages
    "users:read",  # users.info: display names and locales (F4) of the people who write
)
