"""Every verb is declared once here, with its arguments, help, examples and capability.

The parser, `help`, and (later) the platform manifests are all generated from `REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.commands import model as c
from core.commands.moments import Moment
from core.delivery.webhooks import WebhookFormat
from core.domain.capabilities import Capability, Role
from core.domain.model import AnnotationKind
from core.domain.performance import DEFAULT_STATS_DAYS, MAX_STATS_DAYS
from core.domain.schedules import Verdict
from core.domain.subscriptions import Severity, parse_kinds
from core.errors import InvalidCommand
from core.exclusions.presets import DEFAULT_OVER_MB
from core.exclusions.rules import MAX_MEGABYTES
from core.exports.spec import ExportWhat
from core.jobs.export import ExportFormat


class Kind(StrEnum):
    TARGET = "target"
    JOB = "job"
    DRAFT = "draft"
    SUBJECT = "subject"  # a job (#12) or a target name
    WORD = "word"
    INT = "int"
    TEXT = "text"  # the rest of the line
    WHO = "who"  # a mention (<@U1>), a user name, or a principal key
    ROLE = "role"
    CHOICE = "choice"
    FLAG = "flag"  # an option that takes no value
    DATE = "date"  # YYYY-MM-DD or an ISO date-time (core/commands/moments.py)


@dataclass(frozen=True)
class Param:
    name: str
    kind: Kind
    required: bool = True
    choices: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        shown = f"<{self.name}…>" if self.kind is Kind.TEXT else f"<{self.name}>"
        return shown if self.required else f"[{shown}]"


@dataclass(frozen=True)
class Option:
    name: str  # without the leading dashes
    kind: Kind
    choices: tuple[str, ...] = ()
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    metavar: str = ""
    required: bool = False
    repeat: bool = False  # may be given several times; the value is then a list

    @property
    def usage(self) -> str:
        value = "|".join(self.choices) if self.choices else f"<{self.metavar or self.name}>"
        text = f"--{self.name}" if self.kind is Kind.FLAG else f"--{self.name} {value}"
        text += " …" if self.repeat else ""
        return text if self.required else f"[{text}]"


Builder = Callable[[Mapping[str, Any]], c.Command]


@dataclass(frozen=True)
class Verb:
    """One verb (or sub-verb: `role grant`). `path` is its full name."""

    path: str
    capability: Capability | None
    examples: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    options: tuple[Option, ...] = ()
    build: Builder | None = None
    subverbs: tuple[Verb, ...] = ()

    @property
    def name(self) -> str:
        return self.path.rsplit(" ", 1)[-1]

    @property
    def usage(self) -> str:
        if self.subverbs:
            return f"{self.path} {'|'.join(s.name for s in self.subverbs)} …"
        parts = [self.path]
        for param in self.params:
            if param.kind is Kind.TEXT:
                parts.extend(o.usage for o in self.options)
                parts.append(param.usage)
            else:
                parts.append(param.usage)
        if not any(p.kind is Kind.TEXT for p in self.params):
            parts.extend(o.usage for o in self.options)
        return " ".join(parts)

    @property
    def summary_key(self) -> str:
        return f"verb.{self.path.replace(' ', '.')}"

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    def subverb(self, name: str) -> Verb | None:
        return next((s for s in self.subverbs if s.name == name), None)


_ROLES = tuple(r.value for r in Role)
_KINDS = tuple(k.value for k in AnnotationKind)
_SEVERITIES = tuple(s.value for s in Severity)
_WEBHOOK_FORMATS = tuple(f.value for f in WebhookFormat)
_target_option = Option("target", Kind.TARGET)


def _draft(args: Mapping[str, Any]) -> c.Command:
    if args.get("keep") is not None and args.get("keep-days") is not None:
        raise InvalidCommand("error.keep_conflict")
    exclude = args.get("exclude")
    return c.DraftSchedule(
        args["target"],
        args["cron"],
        args["tz"],
        keep_count=args.get("keep"),
        keep_days=args.get("keep-days"),
        exclude=tuple(exclude) if exclude is not None else None,
    )


def _exclude(args: Mapping[str, Any]) -> c.Command:
    over = args["over"]
    if args.get("do") is None:
        if args.get("preset") is not None:
            raise InvalidCommand("error.exclude_add_missing", preset=args["preset"])
        return c.ShowExclusions(args["target"], over)
    if args.get("preset") is None:
        raise InvalidCommand("error.exclude_preset_missing", target=args["target"])
    return c.AddExclusion(args["target"], args["preset"], over)


def _subscribe(args: Mapping[str, Any]) -> c.Command:
    severity = args.get("min-severity")
    return c.Subscribe(
        args["target-or-*"],
        parse_kinds(args["kinds"]),
        Severity(severity) if severity else None,
        webhook=args.get("webhook"),
        webhook_format=args.get("format"),
    )


# --- audit exports (issue 15) ---
_EXPORT_FORMATS = tuple(f.value for f in ExportFormat)
_EXPORT_WHAT = tuple(w.value for w in ExportWhat)


def _apikey(a: Mapping[str, Any]) -> c.Command:
    if a["action"] == "list":
        return c.ListApiKeys()
    if not a.get("key"):
        raise InvalidCommand("error.apikey_name_needed")
    return c.RevokeApiKey(a["key"])


def _audit(args: Mapping[str, Any]) -> c.Command:
    since: Moment | None = args.get("since")
    until: Moment | None = args.get("until")
    return c.ExportAudit(
        since.at if since else None,
        until.end if until else None,
        args.get("target"),
        args["format"],
        args["what"],
    )


AUDIT_VERB = Verb(
    "audit",
    Capability.MANAGE_EXPORTS,
    examples=(
        "audit",
        "audit --since 2026-11-01 --until 2026-11-30 --format json",
        "audit --what actions --target demo --format ndjson",
    ),
    options=(
        Option("since", Kind.DATE, metavar="date"),
        Option("until", Kind.DATE, metavar="date"),
        _target_option,
        Option("format", Kind.CHOICE, choices=_EXPORT_FORMATS, default=ExportFormat.CSV.value),
        Option("what", Kind.CHOICE, choices=_EXPORT_WHAT, default=ExportWhat.JOBS.value),
    ),
    build=_audit,
)
# --- end of audit exports ---


def _subject(args: Mapping[str, Any]) -> c.Command:
    subject = args.get("job-or-target")
    if isinstance(subject, int):
        return c.ShowStatus(job_id=subject)
    return c.ShowStatus(target=subject)


REGISTRY: tuple[Verb, ...] = (
    Verb(
        "run",
        Capability.RUN,
        examples=("run demo",),
        params=(Param("target", Kind.TARGET),),
        build=lambda a: c.RunJob(a["target"]),
    ),
    Verb(
        "status",
        Capability.VIEW,
        examples=("status", "status demo", "status #12"),
        params=(Param("job-or-target", Kind.SUBJECT, required=False),),
        build=_subject,
    ),
    Verb(
        "summary",
        Capability.VIEW,
        examples=("summary #12", "summary 12"),
        params=(Param("job", Kind.JOB),),
        build=lambda a: c.ShowSummary(a["job"]),
    ),
    Verb(
        "history",
        Capability.VIEW,
        examples=("history", "history demo --limit 20"),
        params=(Param("target", Kind.TARGET, required=False),),
        options=(Option("limit", Kind.INT, default=10, minimum=1, maximum=100),),
        build=lambda a: c.ShowHistory(a.get("target"), a["limit"]),
    ),
    Verb(
        "cancel",
        Capability.CANCEL,
        examples=("cancel #12",),
        params=(Param("job", Kind.JOB),),
        build=lambda a: c.CancelJob(a["job"]),
    ),
    Verb(
        "annotate",
        Capability.ANNOTATE,
        examples=(
            'annotate #12 "relaunched after host maintenance" --kind relaunch',
            "annotate 12 --kind anomaly archive smaller than usual",
        ),
        params=(Param("job", Kind.JOB), Param("text", Kind.TEXT)),
        options=(Option("kind", Kind.CHOICE, choices=_KINDS, default=AnnotationKind.NOTE.value),),
        build=lambda a: c.Annotate(a["job"], a["text"], AnnotationKind(a["kind"])),
    ),
    Verb(
        "role",
        Capability.MANAGE_ROLES,
        subverbs=(
            Verb(
                "role grant",
                Capability.MANAGE_ROLES,
                examples=("role grant <@U0456> operator", "role grant bob reviewer --target demo"),
                params=(Param("who", Kind.WHO), Param("role", Kind.ROLE, choices=_ROLES)),
                options=(_target_option,),
                build=lambda a: c.GrantRole(a["who"], a["role"], a.get("target")),
            ),
            Verb(
                "role revoke",
                Capability.MANAGE_ROLES,
                examples=("role revoke bob operator",),
                params=(Param("who", Kind.WHO), Param("role", Kind.ROLE, choices=_ROLES)),
                options=(_target_option,),
                build=lambda a: c.RevokeRole(a["who"], a["role"], a.get("target")),
            ),
            Verb(
                "role list",
                None,  # anyone may see their own roles; others' need manage_roles
                examples=("role list", "role list bob"),
                params=(Param("who", Kind.WHO, required=False),),
                build=lambda a: c.ListRoles(a.get("who")),
            ),
        ),
    ),
    Verb(
        "schedule",
        Capability.VIEW,
        subverbs=(
            Verb(
                "schedule show",
                Capability.VIEW,
                examples=("schedule show demo",),
                params=(Param("target", Kind.TARGET),),
                build=lambda a: c.ShowSchedule(a["target"]),
            ),
            Verb(
                "schedule draft",
                Capability.DRAFT,
                examples=(
                    'schedule draft demo --cron "0 2 * * *" --tz Europe/Paris --keep 5',
                    'schedule draft demo --cron "30 3 * * 1-5" --tz UTC --keep-days 30 '
                    '--exclude "*.mp4" --exclude logs/',
                ),
                params=(Param("target", Kind.TARGET),),
                options=(
                    Option("cron", Kind.WORD, metavar="expr", required=True),
                    Option("tz", Kind.WORD, metavar="zone", required=True),
                    Option("keep", Kind.INT, metavar="N", minimum=1, maximum=10_000),
                    Option("keep-days", Kind.INT, metavar="D", minimum=1, maximum=36_500),
                    Option("exclude", Kind.WORD, metavar="pattern", repeat=True),
                ),
                build=_draft,
            ),
            Verb(
                "schedule drafts",
                Capability.VIEW,
                examples=("schedule drafts",),
                build=lambda a: c.ListDrafts(),
            ),
            Verb(
                "schedule submit",
                Capability.DRAFT,
                examples=("schedule submit #3",),
                params=(Param("draft", Kind.DRAFT),),
                build=lambda a: c.SubmitDraft(a["draft"]),
            ),
            Verb(
                "schedule review",
                Capability.APPROVE,
                examples=(
                    "schedule review #3 approve",
                    'schedule review #3 changes "keep 7 days, not 5"',
                ),
                params=(
                    Param("draft", Kind.DRAFT),
                    Param("decision", Kind.CHOICE, choices=tuple(v.value for v in Verdict)),
                    Param("comment", Kind.TEXT, required=False),
                ),
                options=(Option("version", Kind.INT, minimum=1, maximum=1_000_000),),
                build=lambda a: c.ReviewDraft(
                    a["draft"], Verdict(a["decision"]), a.get("comment") or "", a["version"]
                ),
            ),
            Verb(
                "schedule withdraw",
                Capability.DRAFT,
                examples=("schedule withdraw #3",),
                params=(Param("draft", Kind.DRAFT),),
                build=lambda a: c.WithdrawDraft(a["draft"]),
            ),
        ),
    ),
    Verb(
        "exclude",
        Capability.DRAFT,
        examples=("exclude demo", "exclude demo add node-modules", "exclude demo --over 250"),
        params=(
            Param("target", Kind.TARGET),
            Param("do", Kind.CHOICE, required=False, choices=("add",)),
            Param("preset", Kind.WORD, required=False),
        ),
        options=(
            Option("over", Kind.INT, default=DEFAULT_OVER_MB, minimum=1, maximum=MAX_MEGABYTES),
        ),
        build=_exclude,
    ),
    Verb(
        "alerts",
        Capability.MANAGE_EXPORTS,
        subverbs=(
            Verb(
                "alerts pending",
                Capability.MANAGE_EXPORTS,
                examples=("alerts pending",),
                build=lambda a: c.ListPendingEvents(),
            ),
            Verb(
                "alerts failed",
                Capability.MANAGE_EXPORTS,
                examples=("alerts failed",),
                build=lambda a: c.ListFailedDeliveries(),
            ),
            Verb(
                "alerts retry",
                Capability.MANAGE_EXPORTS,
                examples=("alerts retry 12",),
                params=(Param("delivery", Kind.INT),),
                build=lambda a: c.RetryDelivery(a["delivery"]),
            ),
        ),
    ),
    # One verb with its action as a choice, not a group: Discord's /export has no room left
    # for another subcommand group (bot/manifests/discord.py counts its 4000 characters).
    Verb(
        "apikey",
        Capability.MANAGE_ROLES,
        examples=("apikey list", "apikey revoke cron-db"),
        params=(
            Param("action", Kind.CHOICE, choices=("list", "revoke")),
            Param("key", Kind.WORD, required=False),
        ),
        build=_apikey,
    ),
    Verb(
        "subscribe",
        Capability.MANAGE_EXPORTS,
        examples=(
            "subscribe demo failed,interrupted",
            "subscribe * all --min-severity warning",
            "subscribe demo failed --webhook https://hooks.slack.com/services/T0/B0/XXXX",
        ),
        params=(Param("target-or-*", Kind.WORD), Param("kinds", Kind.WORD)),
        options=(
            Option("min-severity", Kind.CHOICE, choices=_SEVERITIES),
            Option("webhook", Kind.WORD, metavar="url"),
            Option("format", Kind.CHOICE, choices=_WEBHOOK_FORMATS),
        ),
        build=_subscribe,
    ),
    Verb(
        "unsubscribe",
        Capability.MANAGE_EXPORTS,
        examples=("unsubscribe demo succeeded", "unsubscribe *"),
        params=(Param("target-or-*", Kind.WORD), Param("kinds", Kind.WORD, required=False)),
        options=(Option("webhook", Kind.WORD, metavar="url"),),
        build=lambda a: c.Unsubscribe(
            a["target-or-*"],
            parse_kinds(a["kinds"]) if a.get("kinds") else None,
            webhook=a.get("webhook"),
        ),
    ),
    Verb(
        "subscriptions",
        Capability.VIEW,
        examples=("subscriptions", "subscriptions --webhooks"),
        options=(Option("webhooks", Kind.FLAG, default=False),),
        build=lambda a: c.ListSubscriptions(webhooks=a["webhooks"]),
    ),
    Verb(
        "quota",
        Capability.VIEW,
        examples=("quota", "quota demo", "quota demo --recount"),
        params=(Param("target", Kind.TARGET, required=False),),
        options=(Option("recount", Kind.FLAG, default=False),),
        build=lambda a: c.ShowQuota(a.get("target"), recount=a["recount"]),
    ),
    # -- stats (C6) ----------------------------------------------------------------------
    Verb(
        "stats",
        Capability.VIEW,
        examples=("stats", "stats demo", "stats demo --days 30"),
        params=(Param("target", Kind.TARGET, required=False),),
        options=(
            Option(
                "days",
                Kind.INT,
                default=DEFAULT_STATS_DAYS,
                minimum=1,
                maximum=MAX_STATS_DAYS,
                metavar="N",
            ),
        ),
        build=lambda a: c.ShowStats(a.get("target"), a["days"]),
    ),
    # -- end of stats ----------------------------------------------------------------------
    AUDIT_VERB,
    Verb("tour", None, examples=("tour",), build=lambda a: c.ShowTour()),
    Verb(
        "help",
        None,
        examples=("help", "help annotate"),
        params=(Param("command", Kind.WORD, required=False),),
        build=lambda a: c.ShowHelp(a.get("command")),
    ),
)


def find_verb(path: str) -> Verb | None:
    """The verb or sub-verb named `path` ("run", "role grant"), case-insensitive."""
    return _BY_PATH.get(" ".join(path.lower().split()))


def all_verbs() -> list[Verb]:
    """Every leaf verb, in registry order (sub-verbs in place of their group)."""
    leaves: list[Verb] = []
    for verb in REGISTRY:
        leaves.extend(verb.subverbs or (verb,))
    return leaves


# Every verb and sub-verb by path: `find_verb` runs on every command of every platform.
_BY_PATH = {verb.path: verb for top in REGISTRY for verb in (top, *top.subverbs)}
