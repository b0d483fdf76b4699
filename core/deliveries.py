"""A delivery: one event on its way to one destination (a channel, or a person privately)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.subscriptions import Destination


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True)
class Delivery:
    event_id: int
    destination: Destination
    private: bool  # a direct message to the user `destination.channel`
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    message_id: str = ""
    last_error: str = ""
    id: int | None = None
