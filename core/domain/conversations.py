"""Where the bot's messages live on each platform, so a reply in a thread finds its job (B3).

Every job, alert or draft message the bot posts is recorded with the platform's own id for it
(a Slack `ts`, a Teams activity id, a Discord message id). A note written in that message's
thread, or a shortcut used on it, is traced back to the job through this record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class PostedKind(StrEnum):
    JOB = "job"
    ALERT = "alert"
    DRAFT = "draft"
    NOTE = "note"


@dataclass(frozen=True)
class PostedMessage:
    platform: str
    workspace: str
    channel: str
    message_id: str
    kind: PostedKind
    posted_at: datetime
    job_id: int | None = None
    draft_id: int | None = None
    id: int | None = None
