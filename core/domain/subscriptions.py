"""Who hears about what (C1): a channel subscribes to a target's (or every target's) alerts
of some kinds, at or above a severity. The dispatcher asks `wants` for each event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.commands.suggest import suggest
from core.domain.events import EventKind, OutboxEvent
from core.errors import InvalidCommand

EVERY_TARGET = "*"


class AlertKind(StrEnum):
    """What people subscribe to, in the words they type (`subscribe demo failed,quota`)."""

    FAILED = "failed"
    INTERRUPTED = "interrupted"
    RESUMED = "resumed"
    SUCCEEDED = "succeeded"
    QUOTA = "quota"
    PERFORMANCE = "performance"
    REVIEW = "review"  # a draft awaits review
    DECIDED = "decided"  # a draft was approved, rejected, sent back or expired
    MISSED = "missed"  # a scheduled run did not happen (or a reported one did not start)
    STUCK = "stuck"  # a reported run started and did not finish in time
    RECOVERED = "recovered"  # a reported target succeeded again after missed or stuck


ALL_KINDS = frozenset(AlertKind)


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True, order=True)
class Destination:
    """A place alerts go: a channel of a workspace on a platform."""

    platform: str
    workspace: str
    channel: str

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.channel}"


@dataclass(frozen=True)
class Subscription:
    destination: Destination
    target: str  # a target name, or EVERY_TARGET
    kinds: frozenset[AlertKind]
    min_severity: Severity
    created_by: str
    updated_at: datetime
    id: int | None = None

    def wants(self, target: str, kind: AlertKind, severity: Severity) -> bool:
        return (
            self.target in (EVERY_TARGET, target)
            and kind in self.kinds
            and severity.rank >= self.min_severity.rank
        )


def parse_kinds(text: str) -> frozenset[AlertKind]:
    """`failed,quota` (commas or spaces; `all` for every kind) → kinds; InvalidCommand names
    the first word that is not a kind, with a did-you-mean."""
    words = [w for w in text.replace(",", " ").lower().split() if w]
    if not words:
        raise InvalidCommand("error.no_alert_kind", choices=_choices())
    kinds: set[AlertKind] = set()
    for word in words:
        if word == "all":
            return ALL_KINDS
        try:
            kinds.add(AlertKind(word))
        except ValueError:
            raise InvalidCommand(
                "error.bad_alert_kind",
                value=word,
                choices=_choices(),
                closest=suggest(word, [k.value for k in AlertKind]) or "—",
            ) from None
    return frozenset(kinds)


def ordered(kinds: frozenset[AlertKind]) -> list[AlertKind]:
    """In declaration order, so replies read the same every time."""
    return [k for k in AlertKind if k in kinds]


def _choices() -> str:
    return ", ".join([*(k.value for k in AlertKind), "all"])


_JOB_STATES = {
    "failed": (AlertKind.FAILED, Severity.CRITICAL),
    "interrupted": (AlertKind.INTERRUPTED, Severity.WARNING),
    "succeeded": (AlertKind.SUCCEEDED, Severity.INFO),
}


def classify(event: OutboxEvent) -> tuple[AlertKind, Severity] | None:
    """The alert an outbox event stands for, or None when no channel subscribes to it
    (a cancelled job: whoever cancelled it knows)."""
    if event.kind is EventKind.JOB_ENDED:
        if "resumed_by" in event.payload:
            return None  # relaunched at once (E1): its resume's end is what people hear of
        if event.payload.get("origin") == "auto_resume" and event.payload.get("state") == (
            "succeeded"
        ):
            return AlertKind.RESUMED, Severity.INFO
        return _JOB_STATES.get(str(event.payload.get("state")))
    if event.kind is EventKind.QUOTA_THRESHOLD:
        full = float(event.payload.get("threshold", 0)) >= 100
        return AlertKind.QUOTA, Severity.CRITICAL if full else Severity.WARNING
    if event.kind is EventKind.PERFORMANCE_BOUND:
        return AlertKind.PERFORMANCE, Severity.WARNING
    if event.kind is EventKind.DRAFT_SUBMITTED:
        return AlertKind.REVIEW, Severity.INFO
    if event.kind in (EventKind.DRAFT_DECIDED, EventKind.DRAFT_EXPIRED):
        return AlertKind.DECIDED, Severity.INFO
    if event.kind is EventKind.RUN_MISSED:
        return AlertKind.MISSED, Severity.WARNING
    if event.kind is EventKind.RUN_STUCK:
        return AlertKind.STUCK, Severity.WARNING
    if event.kind is EventKind.RUN_RECOVERED:
        return AlertKind.RECOVERED, Severity.INFO
    return None
