"""Configuration (H1): one TOML file plus environment variables, validated at start.

Precedence: environment (`EXPORTBOT_*`) over the TOML file (`--config` or `EXPORTBOT_CONFIG`).
With no file and no targets, the built-in demo is configured (ARCHITECTURE.md).
"""

from __future__ import annotations

import difflib
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from core.domain import cron
from core.domain.capabilities import Role
from core.domain.model import (
    Compression,
    ExpectedRuns,
    PerformanceBounds,
    Principal,
    QuotaPolicy,
    TargetKind,
    TargetSpec,
)
from core.errors import ExportbotError

# Package data of `bot`, so an installed wheel has the demo too; examples/demo-site at the
# checkout's root is a link to it (ARCHITECTURE.md names that path).
DEMO_SITE = Path(__file__).resolve().parent / "examples" / "demo-site"
DEMO_ROLES = {
    "alice": Role.ADMIN,
    "bob": Role.OPERATOR,
    "carol": Role.REVIEWER,
    "dave": Role.SUPPORT,
}
DEMO_EXCLUDES = ("node_modules/", ".cache/")
DEMO_QUOTA_BYTES = 50_000_000  # about fifteen demo archives: enough to watch thresholds fire
_TARGET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class ConfigError(Exception):
    """A bad configuration value; the message names the key."""


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    name: str
    """The target's name, as typed in commands (`run site-a`): letters, digits, `.`, `_` or `-`,
    at most 64."""
    kind: Literal["archive", "command", "reported"] = "archive"
    """`archive` writes a `.tar.gz` (or `.tar.zst`, see `compression`) of `source`; `command`
    runs `command`; `reported` is run by an outside tool (cron, CI, restic…) that reports its
    runs through the job-event API: only `name` is required, and exportbot never runs it."""
    description: str = ""
    """A line shown with the target in `status <target>`."""
    source: str = ""
    """The folder an archive target exports (required for `archive`)."""
    archive_dir: str = ""
    """Where the target's archives go; unset: `<data_dir>/archives/<name>`."""
    compression: Literal["gzip", "zstd"] = "gzip"
    """How an archive target compresses: `gzip` (a `.tar.gz`, the default) or `zstd`
    (Zstandard, a `.tar.zst`: usually smaller, and faster to write and to read back)."""
    compression_level: int | None = None
    """The compression level: 1-9 for `gzip` (default 6), 1-22 for `zstd` (default 3; above 19
    needs much more memory); unset: the algorithm's default."""
    exclude: list[str] = Field(default_factory=list)
    """Gitignore-style patterns left out of an archive (`node_modules/`, `*.log`); an excluded
    folder is never walked. Also `:larger-than=100MB`, `:if-present=.nobackup` and
    `:cachedir-tag` (docs/exclusions.md). A schedule's `--exclude` patterns add to these."""
    command: list[str] = Field(default_factory=list)
    """The argv list a command target runs, without a shell (required for `command`), e.g.
    `["pg_dump", "--format=custom", "--file=/backups/db.dump", "app"]`."""
    timeout_seconds: float = Field(default=3600.0, gt=0)
    """A command target's run fails once it has run this long."""
    workdir: str = ""
    """The working directory of a command target's process; unset: the bot's."""
    env: dict[str, str] = Field(default_factory=dict)
    """Environment variables added to a command target's process."""
    approvals_required: int = Field(default=1, ge=1, le=10)
    """Distinct reviewers a schedule draft of this target needs before it becomes active."""
    # The dead-man's switch of a `reported` target (#16): when its runs are expected.
    schedule: str = ""
    """`reported` targets: the cron expression (5 fields) their runs should start on, e.g.
    `"0 3 * * *"`; no start within `grace` after one → a `missed` alert. An approved
    `schedule draft` replaces it. Unset (and no `every`): starts are not expected."""
    timezone: str = "UTC"
    """`reported` targets: the IANA time zone of `schedule` (`"Europe/Paris"`)."""
    every: float | None = Field(default=None, gt=0)
    """`reported` targets: instead of `schedule`, the longest interval between two starts:
    seconds, or `"90m"`, `"1h"`, `"1d"`; no start within `every` + `grace` → `missed`."""
    grace: float = Field(default=1800.0, ge=0)
    """`reported` targets: how late a start may be before it counts as missed (`"30m"`)."""
    max_runtime: float | None = Field(default=None, gt=0)
    """`reported` targets: a run started and not finished after this (`"2h"`) → one `stuck`
    alert; unset: runs are never judged stuck."""
    quota: int | None = Field(default=None, gt=0)  # bytes; "5 GB" and "500 MiB" are accepted
    """The limit of the target's archives, in bytes or as a size (`"20 GB"`, `"500 MiB"`); unset:
    no limit."""
    quota_thresholds: list[int] = Field(default_factory=lambda: [80, 90, 100])
    """Percentages of the quota that alert once crossed; each re-arms when usage falls 10 points
    below it."""
    storage: str = "local"
    """The storage the quota is counted against."""
    # Performance bounds (C6): each alerts once when the average over the window leaves it,
    # and again only after it came back inside.
    max_avg_duration: float | None = Field(default=None, gt=0)
    """Alert when the average run time of the target's successful jobs over
    `performance_window_days` exceeds this: seconds, or `"90s"`, `"8m"`, `"2h"`; unset: no bound."""
    min_avg_duration: float | None = Field(default=None, gt=0)
    """Alert when that average run time falls below this (seconds or `"30s"`); unset: no bound."""
    max_avg_size: int | None = Field(default=None, gt=0)
    """Alert when the average archive size over the window exceeds this: bytes or a size
    (`"5 GB"`); unset: no bound."""
    min_avg_size: int | None = Field(default=None, gt=0)
    """Alert when the average archive size over the window falls below this (bytes or `"1 GB"`):
    an archive suddenly much smaller is suspicious; unset: no bound."""
    performance_window_days: int = Field(default=7, ge=1, le=366)
    """The days (today included) whose successful jobs the performance bounds average."""
    run_jobs: Literal["local", "workers"] | None = None
    """Where this target's jobs run: `local` (in `serve`) or `workers` (`exportbot worker` on
    the host that holds the files); unset: the global `run_jobs`."""

    @field_validator(
        "max_avg_duration", "min_avg_duration", "every", "grace", "max_runtime", mode="before"
    )
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("max_avg_size", "min_avg_size", mode="before")
    @classmethod
    def _bound_size(cls, value: Any) -> Any:
        return parse_size(value) if isinstance(value, str) else value

    @field_validator("quota", mode="before")
    @classmethod
    def _quota_size(cls, value: Any) -> Any:
        return parse_size(value) if isinstance(value, str) else value

    @field_validator("quota_thresholds")
    @classmethod
    def _thresholds_are_percentages(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= t <= 1000 for t in value):
            raise ValueError("thresholds are percentages between 1 and 1000, e.g. [80, 90, 100]")
        return sorted(set(value))

    @field_validator("compression_level")
    @classmethod
    def _level_fits_algorithm(cls, value: int | None, info: ValidationInfo) -> int | None:
        algorithm = info.data.get("compression")
        if value is None or algorithm is None:  # a bad `compression` is reported on its own
            return value
        low, high = Compression(algorithm).levels
        if not low <= value <= high:
            raise ValueError(f"{algorithm} levels go from {low} to {high}; {value} is outside")
        return value

    @field_validator("name")
    @classmethod
    def _name_is_typable(cls, value: str) -> str:
        if not _TARGET_NAME.fullmatch(value):
            raise ValueError("use letters, digits, '.', '_' or '-' (at most 64), e.g. site-a")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule_is_cron(cls, value: str) -> str:
        if not value.strip():
            return ""
        try:
            return cron.validate(value)
        except ExportbotError:
            raise ValueError(
                f"'{value}' is not a cron expression; write 5 fields, e.g. \"0 3 * * *\""
            ) from None

    @field_validator("timezone")
    @classmethod
    def _timezone_is_known(cls, value: str) -> str:
        try:
            cron.zone(value)
        except ExportbotError:
            raise ValueError(f"'{value}' is not an IANA time zone, e.g. Europe/Paris") from None
        return value

    @model_validator(mode="after")
    def _only_reported_targets_expect_runs(self) -> TargetConfig:
        given = [
            key
            for key in ("schedule", "every", "grace", "max_runtime", "timezone")
            if key in self.model_fields_set
        ]
        if given and self.kind != "reported":
            raise ValueError(
                f"{', '.join(given)}: only for reported targets; schedule an {self.kind} "
                "target with `schedule draft`"
            )
        if self.schedule and self.every is not None:
            raise ValueError("give 'schedule' (cron) or 'every' (an interval), not both")
        return self

    @model_validator(mode="after")
    def _kind_has_what_it_needs(self) -> TargetConfig:
        if self.kind == "archive" and not self.source:
            raise ValueError("an archive target needs 'source' (the folder to export)")
        if self.kind == "reported" and (self.source or self.command):
            raise ValueError(
                "a reported target is run by an outside tool: it takes no 'source' or 'command'"
            )
        if self.kind == "command" and not self.command:
            raise ValueError("a command target needs 'command' (an argv list)")
        compressing = {"compression", "compression_level"} & self.model_fields_set
        if self.kind != "archive" and compressing:
            raise ValueError(f"'{sorted(compressing)[0]}' applies to archive targets only")
        return self


class GrantConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    principal: str
    """Who: `platform:workspace:user` (`slack:T0123:U0456`) or `console:name`."""
    role: Role
    """The role given (see the roles in the commands reference)."""
    target: str | None = None
    """The target the role is limited to; omit it for every target."""

    @field_validator("principal")
    @classmethod
    def _principal_is_parseable(cls, value: str) -> str:
        return _check_principal(value)


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?i?[bB]?)\s*")
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}


def parse_size(text: str) -> int:
    """`5 GB` → 5_000_000_000, `500MiB` → 524_288_000; a ValueError names the text otherwise."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f'\'{text}\' is not a size; write bytes or e.g. "5 GB", "500 MiB"')
    return int(float(match.group(1)) * _UNITS[unit])


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*", re.IGNORECASE)
_DURATION_UNITS = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90s` → 90, `8m` → 480, `2h` → 7200, `1d` → 86400, `45` → 45 seconds; a ValueError
    names the text."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(
            f'\'{text}\' is not a duration; write seconds or e.g. "90s", "8m", "2h", "1d"'
        )
    return float(match.group(1)) * _DURATION_UNITS[(match.group(2) or "").lower()]


def _check_principal(value: str) -> str:
    try:
        Principal.parse(value)
    except ExportbotError:
        raise ValueError(
            f"'{value}' is not a principal; write platform:workspace:user "
            "(slack:T0123:U0456) or console:name"
        ) from None
    return value


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
# URL schemes with a driver this package installs (storage.database adds the async driver).
SUPPORTED_DATABASES = frozenset(
    {"sqlite", "sqlite+aiosqlite", "postgres", "postgresql", "postgresql+asyncpg"}
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EXPORTBOT_", extra="forbid", use_attribute_docstrings=True
    )

    database_url: str = "sqlite+aiosqlite:///var/exportbot.db"
    """The database: `sqlite+aiosqlite:///path/to/exportbot.db`, or PostgreSQL as
    `postgresql+asyncpg://user@host:5432/name`."""
    public_url: str = "http://127.0.0.1:8080"
    """Base of the links in messages (job pages, signed links); set it to the bot's public
    address. Unset, it is `http://<host>:<port>` of `serve`."""
    data_dir: str = "var"
    """The bot's folder; archives go to `<data_dir>/archives/<target>`."""
    host: str = "127.0.0.1"
    """The address `serve` listens on."""
    port: int = Field(default=8080, ge=0, le=65535)
    """The port `serve` listens on."""
    admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Principals given the global `admin` role: `platform:workspace:user` or `console:name`
    (comma-separated in the environment). Their workspaces are served."""
    workspaces: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """The `platform:workspace` pairs served (`slack:T0123`, `teams:<tenant>`, `discord:<guild>`;
    comma-separated in the environment), besides the admins' workspaces. Any other is refused and
    audited."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """The lowest level of log lines written."""
    log_format: Literal["text", "json"] = "text"
    """Log lines as plain `text`, or as one JSON object a line; either way each line carries
    the job, target, platform, workspace and request it is about, when known (docs/logs.md)."""
    metrics_token: SecretStr | None = None
    """The bearer token `GET /metrics` asks for (`Authorization: Bearer <token>`); unset,
    `/metrics` is open to anyone who can reach the port: then keep it behind a firewall."""
    api_master_key_file: str = ""
    """The file holding the job-event API's master key, from which every API key's secret is
    derived (docs/security.md); unset: `<data_dir>/api-master.key`, created (mode 0600) on
    first use. Losing it invalidates every API key; copying it lets one forge them."""
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)
    """On SIGTERM, how long running jobs and open requests get to finish; jobs still running are
    then recorded as `interrupted`."""
    # Slow clients: a connection sending no complete request headers (a new one, or one kept
    # alive between requests) is closed after this; a request body must arrive within the other.
    idle_timeout_seconds: float = Field(default=15.0, gt=0)
    """A connection without a complete request's headers (new, or kept alive between requests) is
    closed after this."""
    body_timeout_seconds: float = Field(default=10.0, gt=0)
    """A request body not received whole by then is answered 408 and the connection closed."""
    draft_ttl_hours: float = Field(default=168.0, gt=0)
    """A schedule draft expires this long after its last change (168: a week)."""
    scheduler: bool = True  # run schedules in `serve` (one leader among several processes)
    """`serve` runs the active schedules (one leader among several processes); the console never
    does."""
    run_jobs: Literal["local", "workers"] = "local"
    """Where jobs run unless a target says otherwise: `local`, in the process that queued them
    (`serve`, the console), or `workers`: `serve` only queues them, and `exportbot worker`
    processes sharing its PostgreSQL database claim and run them."""
    auto_resume_attempts: int = Field(default=2, ge=0, le=10)
    """A job stopped (its process killed, its lease lost) before its run started is relaunched
    at once, at most this many times per first attempt; 0: never. One that had started is
    recorded as interrupted, alerted and offered a Resume button."""
    job_lease_seconds: float = Field(default=120.0, ge=10)
    """A running job whose heartbeat (every 5 s) is older than this is taken as lost with its
    worker on another host (one on the same host is seen gone at once)."""
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    """How often an idle `exportbot worker` looks for queued jobs of its targets."""
    worker_parallel_jobs: int = Field(default=4, ge=1, le=64)
    """How many jobs (each of another target) one `exportbot worker` runs at once."""
    missed_run_grace_seconds: float = Field(default=600.0, ge=0)
    """At start, a scheduled run missed by less than this runs now; older ones are recorded as
    missed."""
    targets: list[TargetConfig] = Field(default_factory=list)
    """The targets (`[[targets]]` tables, below); none configured: the built-in demo target."""
    grants: list[GrantConfig] = Field(default_factory=list)
    """Roles given by the configuration (`[[grants]]` tables, below); only the configuration can
    remove them."""
    # Slack (A1): enabled when the signing secret is set; names as in ARCHITECTURE.md.
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    """Slack's signing secret; Slack over HTTP (`POST /slack/events`) is enabled when it is set."""
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    """Slack's bot token (`xoxb-…`); its workspace is served."""
    slack_app_token: SecretStr | None = Field(  # Socket Mode when set (xapp-…)
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    """Slack's app-level token (`xapp-…`); Socket Mode when set (no public URL needed)."""
    slack_api_url: str = "https://slack.com/api/"
    """Slack's Web API (the tests point it at a loopback stand-in)."""
    # Teams (A2): the Agents SDK's service connection, under the SDK's own names. Without a
    # client id, Teams runs unauthenticated, and only while `serve` listens on loopback.
    teams_client_id: str = Field(
        default="",
        validation_alias=AliasChoices(
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID", "teams_client_id"
        ),
    )
    """The Teams bot's app (client) id; Teams with authentication when set. Without it, Teams
    runs only on loopback, for a tenant in `workspaces`."""
    teams_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTSECRET", "teams_client_secret"
        ),
    )
    """The client secret of the Teams bot's app registration."""
    teams_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices(
            "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__TENANTID", "teams_tenant_id"
        ),
    )
    """The Teams bot's tenant id (served when set)."""
    # Discord (A3): enabled when the public key is set (interactions over HTTP, Ed25519); the
    # bot token sends what is not an interaction's answer (alerts, job messages, DMs).
    discord_public_key: str = Field(
        default="", validation_alias=AliasChoices("DISCORD_PUBLIC_KEY", "discord_public_key")
    )
    """The Discord application's public key (64 hex digits, from the Developer Portal); Discord
    interactions are enabled when it is set."""
    discord_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_BOT_TOKEN", "discord_bot_token")
    )
    """The Discord bot token; needed for job messages, alerts, DMs, slow answers and `exportbot
    discord register`."""
    discord_application_id: str = Field(
        default="",
        validation_alias=AliasChoices("DISCORD_APPLICATION_ID", "discord_application_id"),
    )
    """The Discord application id; unset: the bot's own id."""
    discord_api_url: str = "https://discord.com/api/v10"
    """Discord's REST API (the tests point it at a loopback stand-in)."""
    discord_gateway: bool = Field(
        default=False, validation_alias=AliasChoices("DISCORD_GATEWAY", "discord_gateway")
    )
    """Also connect to Discord's gateway (a websocket, beside the HTTP interactions endpoint)
    to read messages: a message mentioning the bot, or replying to it, in a job's or an
    alert's thread becomes a note on that job. Needs the bot token and the Message Content
    intent switched on in the Developer Portal."""
    # Signed links (G4): the key, and how long a link in an alert works.
    link_secret: SecretStr | None = None  # EXPORTBOT_LINK_SECRET
    """The key that signs links (job pages, charts, export downloads); unset: a key kept in
    `<data_dir>/link-secret.key`, made on first use and readable by its owner only. Processes
    on several hosts need it set, the same in every one."""
    link_ttl_hours: float = Field(default=168.0, gt=0)
    """How long a signed job link works."""
    # Runbook URL per alert: "<target>:<kind>", "<kind>", "<target>" or "*" (most specific wins).
    runbooks: dict[str, str] = Field(default_factory=dict)
    """A runbook URL per alert, keyed `"<target>:<kind>"`, `"<kind>"`, `"<target>"` or `"*"`; the
    most specific key wins."""
    # Alert delivery (C1): repeats of a (target, kind) within this many minutes go in the
    # first alert's thread (0: never); past this many alerts a minute to one channel, the
    # rest fold into a digest (0: never); a claimed delivery is retried after the lease.
    alert_group_minutes: float = Field(default=30.0, ge=0)
    """Repeats of a target's alert kind within this go in the first alert's thread (0: never)."""
    alert_digest_per_minute: int = Field(default=10, ge=0)
    """Past this many alerts a minute to one channel, the rest fold into one digest (0: never)."""
    delivery_lease_seconds: float = Field(default=120.0, gt=0)
    """A claimed delivery not settled by then is tried again, after looking whether it was
    posted."""
    # Progress (C4): a running job's message is edited at most this often.
    progress_every_seconds: float = Field(default=5.0, gt=0)
    """A running job's message is edited with its progress bar at most this often."""
    # Audit exports (C5 in chat): where their files wait for download.
    exports_dir: str = ""
    """Where `audit` exports are written until their link expires (`link_ttl_hours`); unset:
    `<data_dir>/exports`. Expired files are swept at each new export."""
    # Outbound webhooks (A5): the HMAC-SHA256 key that signs generic JSON webhooks.
    webhook_secret: SecretStr | None = None
    """The HMAC-SHA256 key that signs generic JSON webhooks (required for them)."""
    # Webhooks may reach loopback and private networks (on-premises receivers, tests);
    # link-local, metadata, multicast and reserved addresses stay refused.
    webhook_allow_private: bool = False
    """Lets webhooks go to loopback and private networks (on-premises receivers); link-local,
    metadata, multicast and reserved addresses stay refused."""

    _admins_split = field_validator("admins", "workspaces", mode="before")(_split_commas)

    @field_validator("admins")
    @classmethod
    def _admins_are_principals(cls, value: list[str]) -> list[str]:
        return [_check_principal(item) for item in value]

    @field_validator("workspaces")
    @classmethod
    def _workspaces_are_pairs(cls, value: list[str]) -> list[str]:
        for item in value:
            platform, _, workspace = item.partition(":")
            if not platform or not workspace:
                raise ValueError(f"'{item}' is not platform:workspace (e.g. slack:T0123)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_is_supported(cls, value: str) -> str:
        scheme = value.partition("://")[0] if "://" in value else ""
        if scheme not in SUPPORTED_DATABASES:
            raise ValueError(
                f"'{scheme or value[:40]}' is not a supported database URL; write "
                "sqlite+aiosqlite:///path/to/exportbot.db or "
                "postgresql+asyncpg://user@host:5432/name"
            )
        return value

    @field_validator("discord_public_key")
    @classmethod
    def _discord_key_is_hex(cls, value: str) -> str:
        if value and not re.fullmatch(r"[0-9a-fA-F]{64}", value.strip()):
            raise ValueError(
                "DISCORD_PUBLIC_KEY must be the application's public key: 64 hexadecimal "
                f"digits (the Developer Portal's 'Public Key'), got {len(value)} characters"
            )
        return value.strip()

    @model_validator(mode="after")
    def _links_follow_the_port(self) -> Settings:
        """Without EXPORTBOT_PUBLIC_URL, links point at the address `serve` listens on."""
        if "public_url" not in self.model_fields_set:
            host = self.host if self.host not in WILDCARD_HOSTS else "127.0.0.1"
            host = f"[{host}]" if ":" in host else host
            self.public_url = f"http://{host}:{self.port}"
        return self

    @model_validator(mode="after")
    def _names_are_unique(self) -> Settings:
        names = [t.name for t in self.targets]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"target names must be unique: {', '.join(duplicates)}")
        for grant in self.grants:
            if grant.target is not None and grant.target not in names:
                raise ValueError(f"grant for {grant.principal} names unknown target {grant.target}")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = init_settings.init_kwargs.pop("_toml_file", None)  # type: ignore[attr-defined]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    # -- derived ---------------------------------------------------------------------------

    @property
    def link_key_file(self) -> Path:
        """Where the link key is kept when `link_secret` is not set."""
        return Path(self.data_dir) / "link-secret.key"

    @property
    def is_demo(self) -> bool:
        return not self.targets

    @property
    def draft_ttl(self) -> timedelta:
        return timedelta(hours=self.draft_ttl_hours)

    @property
    def api_master_key_path(self) -> Path:
        return Path(self.api_master_key_file or Path(self.data_dir) / "api-master.key")

    @property
    def archive_root(self) -> Path:
        return Path(self.data_dir) / "archives"

    @property
    def exports_root(self) -> Path:
        return Path(self.exports_dir) if self.exports_dir else Path(self.data_dir) / "exports"

    def target_specs(self) -> dict[str, TargetSpec]:
        """The configured targets, or the demo target when none is configured."""
        if self.is_demo:
            return {"demo": self._demo_target()}
        return {t.name: self._spec(t) for t in self.targets}

    def runs_locally(self, target: str) -> bool:
        """Whether the process that queues `target`'s jobs runs them (else a worker does)."""
        for config in self.targets:
            if config.name == target and config.run_jobs is not None:
                return config.run_jobs == "local"
        return self.run_jobs == "local"

    def worker_targets(self) -> list[str]:
        """The targets whose jobs wait for `exportbot worker`."""
        return [name for name in self.target_specs() if not self.runs_locally(name)]

    def bootstrap_grants(self) -> list[tuple[Principal, Role, str | None]]:
        """Grants applied at every start: admins, config grants, and the demo's users."""
        grants: list[tuple[Principal, Role, str | None]] = [
            (Principal.parse(a), Role.ADMIN, None) for a in self.admins
        ]
        grants += [(Principal.parse(g.principal), g.role, g.target) for g in self.grants]
        if self.is_demo:
            grants += [(Principal("console", "", u), r, None) for u, r in DEMO_ROLES.items()]
        return grants

    def check_platforms(self) -> None:
        """Raise ConfigError for a platform `serve` would start half configured (named, not a
        traceback from its SDK). Not a validator: a manifest is printed before the app is
        installed, so before its bot token exists."""
        slack_on = self.slack_signing_secret is not None or self.slack_app_token is not None
        if slack_on and self.slack_bot_token is None:
            given = "SLACK_SIGNING_SECRET" if self.slack_signing_secret else "SLACK_APP_TOKEN"
            raise ConfigError(
                f"{given} is set but SLACK_BOT_TOKEN is not: Slack needs the bot token "
                f"(xoxb-…) to answer. Set SLACK_BOT_TOKEN, or unset {given} to run without Slack."
            )

    @property
    def teams_enabled(self) -> bool:
        """Teams is live with a client id, or (unauthenticated, loopback only) when a Teams
        tenant is served."""
        return bool(self.teams_client_id) or any(
            w.startswith("teams:") for w in self.served_workspaces()
        )

    def served_workspaces(self) -> set[str]:
        """`platform:workspace` pairs served: configured ones plus those of admins (and the
        Teams app's own tenant)."""
        served = set(self.workspaces)
        if self.teams_tenant_id:
            served.add(f"teams:{self.teams_tenant_id}")
        for admin in self.admins:
            principal = Principal.parse(admin)
            if principal.workspace:
                served.add(f"{principal.platform}:{principal.workspace}")
        return served

    def _spec(self, target: TargetConfig) -> TargetSpec:
        archive_dir = target.archive_dir or str(self.archive_root / target.name)
        return TargetSpec(
            name=target.name,
            kind=TargetKind(target.kind),
            description=target.description,
            source=target.source,
            archive_dir=archive_dir,
            exclude=tuple(target.exclude),
            command=tuple(target.command),
            timeout_seconds=target.timeout_seconds,
            workdir=target.workdir,
            env=tuple(sorted(target.env.items())),
            approvals_required=target.approvals_required,
            expected=ExpectedRuns(
                cron=target.schedule,
                timezone=target.timezone,
                every=timedelta(seconds=target.every) if target.every is not None else None,
                grace=timedelta(seconds=target.grace),
                max_runtime=(timedelta(seconds=target.max_runtime) if target.max_runtime else None),
            ),
            quota=QuotaPolicy(target.quota, tuple(target.quota_thresholds), target.storage),
            performance=PerformanceBounds(
                target.max_avg_duration,
                target.min_avg_duration,
                target.max_avg_size,
                target.min_avg_size,
                target.performance_window_days,
            ),
            compression=Compression(target.compression),
            compression_level=target.compression_level,
        )

    def _demo_target(self) -> TargetSpec:
        return TargetSpec(
            name="demo",
            kind=TargetKind.ARCHIVE,
            description="The bundled demo site (examples/demo-site)",
            source=str(DEMO_SITE),
            archive_dir=str(self.archive_root),
            exclude=DEMO_EXCLUDES,
            quota=QuotaPolicy(limit_bytes=DEMO_QUOTA_BYTES),
        )


def load_settings(config_file: str | None = None, **overrides: Any) -> Settings:
    """Read the TOML file (if any) and the environment; raise ConfigError naming bad keys."""
    path = config_file or os.environ.get("EXPORTBOT_CONFIG") or None
    if path is not None and not Path(path).is_file():
        raise ConfigError(f"Configuration file {path} does not exist.")
    try:
        return Settings(_toml_file=path, **overrides)  # type: ignore[call-arg]
    except ValidationError as error:
        raise ConfigError(describe_errors(error, path)) from None
    except ValueError as error:  # TOML syntax errors
        raise ConfigError(f"Configuration file {path} is not valid TOML: {error}") from None


def describe_errors(error: ValidationError, path: str | None) -> str:
    where = f" in {path}" if path else ""
    lines = [f"Configuration is not valid{where}:"]
    scalars = set(Settings.model_fields) - {"targets", "grants"}
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        key = ".".join(loc) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            known = Settings.model_fields if len(loc) == 1 else {}
            close = difflib.get_close_matches(loc[-1], list(known), n=1)
            message = "unknown setting" + (f"; did you mean '{close[0]}'?" if close else "")
        elif len(loc) == 1 and loc[0] in scalars:
            key += f" (or EXPORTBOT_{loc[0].upper()})"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)
