"""A delivery: one event on its way to one destination (a channel, or a person privately)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.delivery.senders import MessageRef
from core.domain.subscriptions import Destination


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """Built with keywords only: `Delivery(event_id=…, destination=…, private=True, …)`
    says what each value is, where a positional `True` did not."""

    event_id: int
    destination: Destination
    next_attempt_at: datetime
    private: bool = False  # a direct message to the user `destination.channel`
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    message_id: str = ""
    last_error: str = ""
    id: int | None = None
    # When an earlier claim was never settled (a crash, a timeout): that attempt may have
    # posted, so the dispatcher asks the platform before posting again.
    unsettled_since: datetime | None = None

    @property
    def key(self) -> str:
        """The idempotency key a sender stores with the message (core/delivery/senders.py)."""
        return f"exportbot-delivery-{self.id}"


@dataclass(frozen=True)
class AlertThread:
    """The first alert of a (target, kind) at a destination; repeats go in its thread."""

    destination: Destination
    target: str
    kind: str
    event_id: int
    head: MessageRef
    count: int
    last_at: datetime
