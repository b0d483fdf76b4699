"""Domain objects. Plain dataclasses: storage maps them to rows, adapters never see rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from core.domain.capabilities import Role
from core.errors import Conflict, InvalidCommand


@dataclass(frozen=True, order=True)
class Principal:
    """A platform identity. Two workspaces' users never compare equal (B2)."""

    platform: str
    workspace: str
    user_id: str

    @property
    def key(self) -> str:
        """`platform:workspace:user`, or `platform:user` when there is no workspace."""
        if self.workspace:
            return f"{self.platform}:{self.workspace}:{self.user_id}"
        return f"{self.platform}:{self.user_id}"

    @classmethod
    def parse(cls, text: str) -> Principal:
        """Parse `slack:T1:U2` or `console:alice`; raise InvalidCommand naming the text."""
        parts = text.strip().split(":")
        if len(parts) == 3 and all(parts):
            return cls(parts[0].lower(), parts[1], parts[2])
        if len(parts) == 2 and all(parts):
            return cls(parts[0].lower(), "", parts[1])
        raise InvalidCommand("error.bad_principal", text=text)

    def __str__(self) -> str:
        return self.key


# The longest channel name kept: Discord allows 100 characters, Slack 80, Teams 50.
MAX_CHANNEL_NAME = 100


@dataclass(frozen=True)
class Actor:
    """Who is speaking, from where. Built by an adapter from a verified request."""

    principal: Principal
    display_name: str
    locale: str = "en"
    channel: str = ""
    thread: str = ""
    # The channel's name as its platform shows it (`#ops`), where the platform said it; empty
    # for a direct message or when unknown. Shown to people instead of `channel`, an id.
    # At most MAX_CHANNEL_NAME characters once it passed the door (core/commands/inbound.py).
    channel_name: str = ""
    # The person's own one-to-one chat with the bot (a Teams personal chat): what is answered
    # there is already told to them privately. Slack's Messages tab is off and a Discord DM
    # holds no rights, so no job starts in one there.
    direct: bool = False

    @property
    def platform(self) -> str:
        return self.principal.platform

    @property
    def workspace(self) -> str:
        return self.principal.workspace


SYSTEM_ACTOR = Actor(Principal("system", "", "exportbot"), "exportbot")


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED}
)
ACTIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})

_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset(
        {JobState.RUNNING, JobState.CANCELLED, JobState.INTERRUPTED, JobState.FAILED}
    ),
    JobState.RUNNING: frozenset(
        {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.INTERRUPTED}
    ),
}


class OriginKind(StrEnum):
    USER = "user"
    SCHEDULE = "schedule"
    API = "api"
    AUTO_RESUME = "auto_resume"


@dataclass(frozen=True)
class Origin:
    """What started a job: a user on a platform and channel, a schedule, the API, a resume."""

    kind: OriginKind
    platform: str = ""
    workspace: str = ""
    channel: str = ""
    reference: str = ""  # schedule id, API source, or the job a resume continues
    channel_name: str = ""  # what people call `channel` (see Actor.channel_name)
    direct: bool = False  # started in the person's own chat with the bot (see Actor.direct)

    @classmethod
    def from_actor(cls, actor: Actor) -> Origin:
        return cls(
            OriginKind.USER,
            actor.platform,
            actor.workspace,
            actor.channel,
            channel_name=actor.channel_name,
            direct=actor.direct,
        )


@dataclass
class Job:
    """One export run. State changes only through `transition`."""

    id: int
    target: str
    state: JobState
    origin: Origin
    requester: Principal | None
    requester_name: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    file_count: int | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    archive_path: str | None = None
    error: str | None = None
    worker: str | None = None
    cancel_requested: bool = False
    heartbeat_at: datetime | None = None
    # When the runner confirmed it had started (E1). `started_at` is the claim: a running job
    # without this mark has done nothing yet, so relaunching it cannot run its target twice.
    run_started_at: datetime | None = None

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None:
            return None
        if self.finished_at is None:
            return None
        return self.finished_at - self.started_at

    def transition(self, new_state: JobState, at: datetime) -> None:
        """Move to `new_state`, stamping times; raise Conflict on an illegal move."""
        if new_state not in _TRANSITIONS.get(self.state, frozenset()):
            raise Conflict("error.job_transition", job=self.id, state=self.state.value)
        self.state = new_state
        if new_state is JobState.RUNNING:
            self.started_at = at
            self.heartbeat_at = at
        if new_state.is_terminal:
            self.finished_at = at


@dataclass(frozen=True)
class NewJob:
    target: str
    origin: Origin
    requester: Principal | None
    requester_name: str
    created_at: datetime


class AnnotationKind(StrEnum):
    NOTE = "note"
    RELAUNCH = "relaunch"
    ANOMALY = "anomaly"


@dataclass(frozen=True)
class Annotation:
    id: int | None
    job_id: int
    kind: AnnotationKind
    text: str
    author: Principal
    author_name: str
    created_at: datetime
    link: str = ""  # back to the chat message it came from, when the platform gives one


@dataclass(frozen=True)
class Grant:
    """A role given to a principal, globally (target None) or for one target."""

    principal: Principal
    role: Role
    target: str | None
    granted_by: str
    granted_at: datetime

    @property
    def from_configuration(self) -> bool:
        return self.granted_by == CONFIG_GRANTOR


CONFIG_GRANTOR = "configuration"


class Outcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"
    INVALID = "invalid"
    ERROR = "error"


@dataclass(frozen=True)
class AuditEntry:
    """One append-only line of the audit log (B6)."""

    at: datetime
    actor: str
    actor_name: str
    platform: str
    workspace: str
    channel: str
    action: str
    outcome: Outcome
    target: str | None = None
    job_id: int | None = None
    detail: str = ""
    id: int | None = None


@dataclass(frozen=True)
class QuotaPolicy:
    """A target's storage limit (None: unlimited) and the usage percentages that alert."""

    limit_bytes: int | None = None
    thresholds: tuple[int, ...] = (80, 90, 100)
    storage: str = "local"


DEFAULT_WINDOW_DAYS = 7


class Bound(StrEnum):
    """The configuration keys of the bounds, also their names in events and state."""

    MAX_DURATION = "max_avg_duration"
    MIN_DURATION = "min_avg_duration"
    MAX_SIZE = "max_avg_size"
    MIN_SIZE = "min_avg_size"

    @property
    def is_duration(self) -> bool:
        return self in (Bound.MAX_DURATION, Bound.MIN_DURATION)

    @property
    def is_maximum(self) -> bool:
        return self in (Bound.MAX_DURATION, Bound.MAX_SIZE)


@dataclass(frozen=True)
class PerformanceBounds:
    """A target's bounds on its averages over the last `window_days` days (None: unset)."""

    max_avg_seconds: float | None = None
    min_avg_seconds: float | None = None
    max_avg_bytes: int | None = None
    min_avg_bytes: int | None = None
    window_days: int = DEFAULT_WINDOW_DAYS

    def limits(self) -> dict[Bound, float]:
        """The bounds that are set, each with its value (seconds or bytes)."""
        values = {
            Bound.MAX_DURATION: self.max_avg_seconds,
            Bound.MIN_DURATION: self.min_avg_seconds,
            Bound.MAX_SIZE: self.max_avg_bytes,
            Bound.MIN_SIZE: self.min_avg_bytes,
        }
        return {bound: float(v) for bound, v in values.items() if v is not None}

    @property
    def any(self) -> bool:
        return bool(self.limits())


DEFAULT_GRACE = timedelta(minutes=30)


@dataclass(frozen=True)
class ExpectedRuns:
    """When a `reported` target's outside job should start and how long it may run (the
    dead-man's switch): a cron schedule in a time zone or an interval, a grace, a maximum."""

    cron: str = ""
    timezone: str = "UTC"
    every: timedelta | None = None
    grace: timedelta = DEFAULT_GRACE
    max_runtime: timedelta | None = None

    @property
    def expects_starts(self) -> bool:
        return bool(self.cron) or self.every is not None

    @property
    def any(self) -> bool:
        return self.expects_starts or self.max_runtime is not None


class TargetKind(StrEnum):
    ARCHIVE = "archive"
    COMMAND = "command"
    REPORTED = "reported"  # run by an outside tool, which tells its runs through the job-event API

    @property
    def runs_here(self) -> bool:
        """Whether exportbot itself runs the target's jobs (never a reported one)."""
        return self is not TargetKind.REPORTED


class Compression(StrEnum):
    """How an archive target compresses its tar stream; the value is the setting's word."""

    GZIP = "gzip"
    ZSTD = "zstd"

    @property
    def suffix(self) -> str:
        return ARCHIVE_SUFFIXES[self]

    @property
    def levels(self) -> tuple[int, int]:
        """The levels the algorithm accepts, lowest and highest (gzip's 1-9, zstd's 1-22)."""
        return COMPRESSION_LEVELS[self][:2]

    @property
    def default_level(self) -> int:
        return COMPRESSION_LEVELS[self][2]


ARCHIVE_SUFFIXES = {Compression.GZIP: ".tar.gz", Compression.ZSTD: ".tar.zst"}
# (lowest, highest, default): the defaults are gzip's and the zstd tool's own.
COMPRESSION_LEVELS = {Compression.GZIP: (1, 9, 6), Compression.ZSTD: (1, 22, 3)}


@dataclass(frozen=True)
class TargetSpec:
    """What to export and how, as read from configuration."""

    name: str
    kind: TargetKind
    description: str = ""
    source: str = ""
    archive_dir: str = ""
    exclude: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    timeout_seconds: float = 3600.0
    workdir: str = ""
    env: tuple[tuple[str, str], ...] = field(default=())
    approvals_required: int = 1  # four eyes: distinct approvers a schedule draft needs
    expected: ExpectedRuns = ExpectedRuns()  # `reported` targets: the dead-man's switch
    quota: QuotaPolicy = QuotaPolicy()
    performance: PerformanceBounds = PerformanceBounds()
    compression: Compression = Compression.GZIP
    compression_level: int | None = None  # None: the algorithm's default level
