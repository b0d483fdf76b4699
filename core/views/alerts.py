"""An outbox event as an alert people can act on (C2): what happened, why it matters, what
to do — in that order — with the signed job link, the runbook for that kind of event, and
the next steps as buttons bound to capabilities.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from core.commands import actions
from core.commands.forms import Form, note_form
from core.commands.numbers import record_id
from core.domain.capabilities import Capability
from core.domain.events import OutboxEvent
from core.domain.model import Bound, Job, OriginKind, PerformanceBounds
from core.domain.schedules import Verdict
from core.domain.subscriptions import AlertKind, Severity
from core.i18n import Translator
from core.safety.links import PageLinks, chart_path, fetchable, signed_url
from core.safety.redaction import redact
from core.views.message import Action, Field, Image, Message, Tone
from core.views.performance import (
    PerformanceChart,
    bound_words,
    series_chart,
    short_duration,
)

SEVERITY_TONES = {
    Severity.INFO: Tone.INFO,
    Severity.WARNING: Tone.WARNING,
    Severity.CRITICAL: Tone.DANGER,
}
JOB_KINDS = frozenset(
    {AlertKind.FAILED, AlertKind.INTERRUPTED, AlertKind.RESUMED, AlertKind.SUCCEEDED}
)


@dataclass(frozen=True)
class AlertSettings:
    public_url: str
    link_secret: bytes
    link_ttl: timedelta = timedelta(days=7)
    # "<target>:<kind>", "<kind>", "<target>" or "*" → URL; the most specific wins.
    runbooks: Mapping[str, str] = field(default_factory=dict)
    # Repeats of a (target, kind) within this window reply in the first alert's thread.
    group_window: timedelta = timedelta(minutes=30)
    # More alerts than this in a minute to one destination fold into a digest (0: never).
    digest_per_minute: int = 10

    @property
    def pages(self) -> PageLinks:
        """Signs the links to the web pages (F3) that alerts carry."""
        return PageLinks(self.public_url, self.link_secret, self.link_ttl)

    def runbook(self, target: str, kind: AlertKind) -> str:
        for key in (f"{target}:{kind.value}", kind.value, target, "*"):
            if key in self.runbooks:
                return self.runbooks[key]
        return ""


def alert_message(
    t: Translator,
    event: OutboxEvent,
    kind: AlertKind,
    severity: Severity,
    settings: AlertSettings,
    now: datetime,
    job: Job | None = None,
) -> Message:
    p = event.payload
    values = {
        "target": event.target,
        "job": p.get("job", ""),
        "draft": p.get("draft", ""),
        "threshold": p.get("threshold", ""),
        "percent": p.get("percent", ""),
        "state": t.t(f"draft.state.{p['state']}")
        if kind is AlertKind.DECIDED and "state" in p
        else "",
        "fire_time": p.get("fire_time", ""),
        "grace": short_duration(t, float(p.get("grace_seconds") or 0)),
        "max_runtime": short_duration(t, float(p.get("max_runtime_seconds") or 0)),
    }
    fields = [
        Field(t.t("field.target"), event.target),
        Field(t.t("field.severity"), t.t(f"severity.{severity.value}")),
    ]
    if kind in JOB_KINDS and job is not None:
        fields.append(Field(t.t("field.job"), f"#{job.id}"))
        if job.error:
            fields.append(Field(t.t("field.error"), redact(job.error)))
        if job.origin.kind is OriginKind.API:
            where = job.worker or "—"
            fields.append(
                Field(
                    t.t("field.reported_by"),
                    t.t("alert.reported_by", name=job.requester_name, host=where),
                )
            )
        if p.get("log_tail"):  # a reported run's output, redacted again on the way out
            fields.append(Field(t.t("field.log_tail"), redact(str(p["log_tail"]))))
        link = settings.pages.job(job.id, t.locale, now)  # in the reader's language (F3)
        fields.append(Field(t.t("field.job_page"), link))
    if kind is AlertKind.REVIEW and isinstance(p.get("draft"), int):
        link = settings.pages.review(p["draft"], t.locale, now)
        fields.append(Field(t.t("field.review_page"), link))
    images: tuple[Image, ...] = ()
    sections = [t.t(_why_key(kind, job, p), **values)]
    if kind is AlertKind.PERFORMANCE:
        images, more = _performance(t, event, settings, now)
        fields.extend(more)
        sections.append(_performance_average(t, event))
    runbook = settings.runbook(event.target, kind)
    if runbook:
        fields.append(Field(t.t("field.runbook"), runbook))
    title = t.t(f"alert.title.{kind.value}", **values)
    return Message(
        title=title,
        status=t.t(f"severity.{severity.value}"),
        tone=SEVERITY_TONES[severity],
        field_separator=t.t("field.separator"),
        fields=tuple(fields),
        sections=(*sections, t.t(_todo_key(kind, p), **values)),
        images=images,
        actions=_actions(t, event, kind),
        summary=f"{title}. {t.t(_todo_key(kind, p), **values)}",
        job_id=job.id if job is not None and kind in JOB_KINDS else None,
    )


def _performance(
    t: Translator, event: OutboxEvent, settings: AlertSettings, now: datetime
) -> tuple[tuple[Image, ...], list[Field]]:
    """A performance alert's chart (the signed link, its words as alt text) and the job page
    of the job whose end tipped the average."""
    p = event.payload
    fields = []
    job = p.get("job")
    if isinstance(job, int):
        fields.append(Field(t.t("field.job"), f"#{job}"))
        link = settings.pages.job(job, t.locale, now)
        fields.append(Field(t.t("field.job_page"), link))
    drawn = performance_chart(t, event)
    if drawn is None:
        return (), fields
    days = len(drawn.days)
    url = ""  # on loopback only the platforms that upload the chart show it (Discord)
    if fetchable(settings.public_url):
        path = chart_path(event.target, days)
        url = signed_url(settings.public_url, path, settings.link_secret, now, settings.link_ttl)
    return (Image(url, drawn.alt_text, filename=f"stats-{event.target}-{days}d.png"),), fields


def performance_chart(t: Translator, event: OutboxEvent) -> PerformanceChart | None:
    """The chart a performance event's alert shows, from the days its payload carries (the
    same words whether it is drawn now or fetched later from its link)."""
    p = event.payload
    seconds, sizes = list(p.get("seconds") or []), list(p.get("bytes") or [])
    try:
        start = date.fromisoformat(str(p.get("start")))
    except ValueError:
        return None
    if not seconds or len(sizes) != len(seconds):
        return None
    return series_chart(t, event.target, start, seconds, sizes, _bounds(p.get("limits") or {}))


def _bounds(limits: Mapping[str, float]) -> PerformanceBounds:
    def get(bound: Bound) -> float | None:
        value = limits.get(bound.value)
        return float(value) if value is not None else None

    def whole(bound: Bound) -> int | None:
        value = get(bound)
        return round(value) if value is not None else None

    return PerformanceBounds(
        get(Bound.MAX_DURATION),
        get(Bound.MIN_DURATION),
        whole(Bound.MAX_SIZE),
        whole(Bound.MIN_SIZE),
    )


def _window_days(t: Translator, days: object) -> str:
    """The payload's window in words; a payload without one (older rows) shows its raw value."""
    if isinstance(days, int) and not isinstance(days, bool):
        return t.t("count.days", count=days)
    return str(days) if days is not None else "—"


def _performance_average(t: Translator, event: OutboxEvent) -> str:
    """The window's averages, and which bounds they are outside of, in words."""
    p = event.payload
    crossed = [Bound(b) for b in p.get("bounds") or [] if b in {x.value for x in Bound}]
    limits = p.get("limits") or {}
    seconds, size = p.get("avg_seconds"), p.get("avg_bytes")
    return t.t(
        "alert.performance.average",
        days=_window_days(t, p.get("window_days")),
        duration=short_duration(t, float(seconds)) if seconds is not None else "—",
        size=t.size(round(size)) if size is not None else "—",
        bounds=", ".join(bound_words(t, b, float(limits.get(b.value, 0))) for b in crossed),
    )


def _why_key(kind: AlertKind, job: Job | None, payload: Mapping[str, object]) -> str:
    """A failure speaks of its schedule's promise only when a schedule started the job; a
    reported target's miss is a silence, not a bot that was down."""
    if kind is AlertKind.FAILED and job is not None and job.origin.kind is not OriginKind.SCHEDULE:
        return "alert.why.failed_unscheduled"
    if kind is AlertKind.MISSED and payload.get("reported"):
        return "alert.why.missed_reported"
    return f"alert.why.{kind.value}"


def _todo_key(kind: AlertKind, payload: Mapping[str, object]) -> str:
    if kind is AlertKind.MISSED and payload.get("reported"):
        return "alert.todo.missed_reported"  # it runs elsewhere: no "run it now" here
    return f"alert.todo.{kind.value}"


def _actions(t: Translator, event: OutboxEvent, kind: AlertKind) -> tuple[Action, ...]:
    p, target = event.payload, event.target

    def button(
        name: str,
        key: str,
        object_id: object,
        capability: Capability,
        version: int = 0,
        style: Tone = Tone.NEUTRAL,
        form: Form | None = None,
        **label: object,
    ) -> Action:
        return Action(
            label=t.t(f"action.{key}"),
            name=name,
            object_id=str(object_id),
            version=version,
            capability=capability,
            accessibility_label=t.t(f"action.{key}.label", target=target, **label),
            style=style,
            form=form,
        )

    job = p.get("job")
    # The note form goes with its button: Teams opens it under the alert's card.
    note = note_form(t, record_id(str(job)) or 0) if job is not None else None
    if kind in (AlertKind.FAILED, AlertKind.INTERRUPTED) and job is not None:
        return (
            button(
                actions.JOB_RETRY,
                "resume_job" if kind is AlertKind.INTERRUPTED else "retry_job",
                job,
                Capability.RUN,
                style=Tone.SUCCESS,
                job=job,
            ),
            button(actions.JOB_LOG, "log_job", job, Capability.VIEW, job=job),
            button(actions.JOB_NOTE, "note_job", job, Capability.ANNOTATE, form=note, job=job),
        )
    if kind in (AlertKind.SUCCEEDED, AlertKind.RESUMED) and job is not None:
        return (button(actions.JOB_NOTE, "note_job", job, Capability.ANNOTATE, form=note, job=job),)
    if kind is AlertKind.QUOTA:
        return (button(actions.TARGET_PRUNE, "prune_preview", target, Capability.VIEW),)
    if kind is AlertKind.MISSED and not p.get("reported"):
        return (button(actions.TARGET_RUN, "run_now", target, Capability.RUN, style=Tone.SUCCESS),)
    if kind is AlertKind.REVIEW and "draft" in p:
        draft, version = p["draft"], int(p.get("version", 0))
        styles = {Verdict.APPROVE: Tone.SUCCESS, Verdict.REJECT: Tone.DANGER}
        return tuple(
            button(
                f"draft.{v.value}",
                v.value,
                draft,
                Capability.APPROVE,
                version,
                styles.get(v, Tone.NEUTRAL),
                draft=draft,
            )
            for v in Verdict
        )
    return ()


def with_repeats(t: Translator, head: Message, count: int, last: datetime) -> Message:
    """The first alert of a group, redrawn to say how many followed in its thread."""
    line = t.t("alert.repeats", count=count, time=t.time(last))
    return replace(head, fields=(*head.fields, Field(t.t("field.repeats"), line)))


def digest_message(t: Translator, alerts: Sequence[Message]) -> Message:
    """Alerts that arrived faster than a channel can read them, folded into one message,
    one line each, in the order they happened."""
    lines = [_digest_line(a) for a in alerts]
    title = t.t("alert.digest.title", count=len(alerts))
    return Message(
        title=title,
        status=t.t("alert.digest.status"),
        tone=max((a.tone for a in alerts), key=_TONE_RANK.__getitem__),
        sections=("\n".join(lines), t.t("alert.digest.todo")),
        summary=title,
    )


_TONE_RANK = {Tone.NEUTRAL: 0, Tone.SUCCESS: 1, Tone.INFO: 2, Tone.WARNING: 3, Tone.DANGER: 4}


def _digest_line(alert: Message) -> str:
    """Title and status, why it matters (the first section), and the job's link."""
    why = f" {alert.sections[0]}" if alert.sections else ""
    link = next((f.value for f in alert.fields if f.value.startswith("http")), "")
    return f"• {alert.title} — {alert.status}.{why}" + (f" {link}" if link else "")
