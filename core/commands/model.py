"""Commands: what a user asked for, parsed from the grammar or built from a button press."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from core.domain.capabilities import Role
from core.domain.model import AnnotationKind
from core.domain.schedules import Verdict
from core.domain.subscriptions import AlertKind, Severity


@dataclass(frozen=True)
class Command:
    verb: ClassVar[str] = ""
    audited: ClassVar[bool] = True
    read_only: ClassVar[bool] = False  # True: runs without the write lock, audit batched


@dataclass(frozen=True)
class RunJob(Command):
    verb: ClassVar[str] = "run"
    target: str


@dataclass(frozen=True)
class ShowStatus(Command):
    """`status` (every target), `status <target>` or `status <job>`."""

    verb: ClassVar[str] = "status"
    read_only: ClassVar[bool] = True
    target: str | None = None
    job_id: int | None = None


@dataclass(frozen=True)
class ShowSummary(Command):
    """`summary <job>`: one sentence with the job's state and the next step (F2)."""

    verb: ClassVar[str] = "summary"
    read_only: ClassVar[bool] = True
    job_id: int


@dataclass(frozen=True)
class ShowHistory(Command):
    verb: ClassVar[str] = "history"
    read_only: ClassVar[bool] = True
    target: str | None = None
    limit: int = 10


@dataclass(frozen=True)
class CancelJob(Command):
    verb: ClassVar[str] = "cancel"
    job_id: int


@dataclass(frozen=True)
class RetryJob(Command):
    """Run a job's target again (the Retry button on a failed or interrupted job)."""

    verb: ClassVar[str] = "retry"
    job_id: int


@dataclass(frozen=True)
class ShowLogTail(Command):
    """The end of a job's error output, redacted (the "Show log tail" button)."""

    verb: ClassVar[str] = "log"
    read_only: ClassVar[bool] = True
    job_id: int


@dataclass(frozen=True)
class ShowPrunePreview(Command):
    """What the active schedule's retention would delete next (the "Prune preview" button)."""

    verb: ClassVar[str] = "prune preview"
    read_only: ClassVar[bool] = True
    target: str


@dataclass(frozen=True)
class ShowHome(Command):
    """The viewer's overview (Slack App Home): recent jobs, drafts to review, quotas."""

    verb: ClassVar[str] = "home"
    read_only: ClassVar[bool] = True
    audited: ClassVar[bool] = False  # opening a tab is not an act worth a line in the log


@dataclass(frozen=True)
class Annotate(Command):
    verb: ClassVar[str] = "annotate"
    job_id: int
    text: str
    kind: AnnotationKind = AnnotationKind.NOTE
    link: str = ""


@dataclass(frozen=True)
class GrantRole(Command):
    verb: ClassVar[str] = "role grant"
    who: str
    role: Role
    target: str | None = None


@dataclass(frozen=True)
class RevokeRole(Command):
    verb: ClassVar[str] = "role revoke"
    who: str
    role: Role
    target: str | None = None


@dataclass(frozen=True)
class ListRoles(Command):
    verb: ClassVar[str] = "role list"
    read_only: ClassVar[bool] = True
    who: str | None = None


@dataclass(frozen=True)
class ShowHelp(Command):
    verb: ClassVar[str] = "help"
    read_only: ClassVar[bool] = True
    topic: str | None = None


@dataclass(frozen=True)
class ShowTour(Command):
    """`tour`, or a tour button's Next: one step of the guided tour (D1), 1 to 4."""

    verb: ClassVar[str] = "tour"
    step: int = 1


@dataclass(frozen=True)
class EndTour(Command):
    """A tour button's Skip or Done: the principal's choice is remembered (no more offers)."""

    verb: ClassVar[str] = "tour"
    finished: bool = False


@dataclass(frozen=True)
class ShowSchedule(Command):
    verb: ClassVar[str] = "schedule show"
    read_only: ClassVar[bool] = True
    target: str


@dataclass(frozen=True)
class DraftSchedule(Command):
    """Create a draft, or edit the caller's open draft of that target."""

    verb: ClassVar[str] = "schedule draft"
    target: str
    cron: str
    timezone: str
    keep_count: int | None = None
    keep_days: int | None = None
    exclude: tuple[str, ...] | None = None  # None: unchanged


@dataclass(frozen=True)
class ListDrafts(Command):
    verb: ClassVar[str] = "schedule drafts"


@dataclass(frozen=True)
class SubmitDraft(Command):
    verb: ClassVar[str] = "schedule submit"
    draft_id: int


@dataclass(frozen=True)
class ReviewDraft(Command):
    """A decision, bound to the version the reviewer saw when `version` is given (buttons)."""

    verb: ClassVar[str] = "schedule review"
    draft_id: int
    verdict: Verdict
    comment: str = ""
    version: int | None = None


@dataclass(frozen=True)
class WithdrawDraft(Command):
    verb: ClassVar[str] = "schedule withdraw"
    draft_id: int


@dataclass(frozen=True)
class ListPendingEvents(Command):
    verb: ClassVar[str] = "alerts pending"
    read_only: ClassVar[bool] = True


@dataclass(frozen=True)
class Subscribe(Command):
    """`subscribe <target|*> <kinds> [--min-severity …]`: this channel hears those alerts."""

    verb: ClassVar[str] = "subscribe"
    target: str
    kinds: frozenset[AlertKind]
    min_severity: Severity | None = None  # None: keep the current one (info for a new one)
    webhook: str | None = None  # A5: alerts go to this URL instead of this channel
    webhook_format: str | None = None  # None: told by the URL's host (json otherwise)


@dataclass(frozen=True)
class Unsubscribe(Command):
    verb: ClassVar[str] = "unsubscribe"
    target: str
    kinds: frozenset[AlertKind] | None = None  # None: every kind
    webhook: str | None = None


@dataclass(frozen=True)
class ListSubscriptions(Command):
    verb: ClassVar[str] = "subscriptions"
    read_only: ClassVar[bool] = True
    webhooks: bool = False  # every webhook's subscriptions instead of this channel's


@dataclass(frozen=True)
class ListFailedDeliveries(Command):
    verb: ClassVar[str] = "alerts failed"
    read_only: ClassVar[bool] = True


@dataclass(frozen=True)
class ListApiKeys(Command):
    """`apikey list`: the job-event API's keys (names, targets, dates; never secrets)."""

    verb: ClassVar[str] = "apikey"
    read_only: ClassVar[bool] = True


@dataclass(frozen=True)
class RevokeApiKey(Command):
    """`apikey revoke <name>`: the key signs nothing from now on."""

    verb: ClassVar[str] = "apikey"
    name: str


@dataclass(frozen=True)
class RetryDelivery(Command):
    verb: ClassVar[str] = "alerts retry"
    delivery_id: int


@dataclass(frozen=True)
class ShowStats(Command):
    """`stats [target] [--days N]` (C6): average run time and archive size per day."""

    verb: ClassVar[str] = "stats"
    read_only: ClassVar[bool] = True
    target: str | None = None
    days: int = 14


@dataclass(frozen=True)
class ShowQuota(Command):
    """`quota` (every target), `quota <target>`, or `quota <target> --recount`."""

    verb: ClassVar[str] = "quota"
    target: str | None = None
    recount: bool = False


# --- audit exports (issue 15) ---


@dataclass(frozen=True)
class ExportAudit(Command):
    """`audit [--since D] [--until D] [--target T] [--format F] [--what jobs|actions]`:
    built in the background, answered with a signed link (and the file where it fits)."""

    verb: ClassVar[str] = "audit"
    # Not read-only: starting an export posts and writes files, so a platform's replay of the
    # same request is claimed once (E2) like any change.
    since: datetime | None = None  # None: `until` less the default window
    until: datetime | None = None  # excluded; None: now
    target: str | None = None
    fmt: str = "csv"
    what: str = "jobs"


@dataclass(frozen=True)
class ShowExclusions(Command):
    """`exclude <target>`: the presets, each previewed on the target's tree (D2)."""

    verb: ClassVar[str] = "exclude"
    read_only: ClassVar[bool] = True
    target: str
    over_mb: int = 100


@dataclass(frozen=True)
class AddExclusion(Command):
    """`exclude <target> add <preset>` or a preset's button: a schedule draft with it added."""

    verb: ClassVar[str] = "exclude add"
    target: str
    preset: str
    over_mb: int = 100
