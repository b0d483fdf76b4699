"""The web pages' content (F3): a job, a target's history, a draft's review with its diff.

Platform-free and pure like every view: what the pages say, in the reader's language, with
their signed links already made; bot/pages.py only lays them out (Jinja2 templates). Status
is a word everywhere; the tone only lets the page repeat it with a colour (F1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.domain.model import Annotation, Job
from core.domain.schedules import ArchiveRecord, Draft, DraftState, Schedule
from core.i18n import Translator
from core.views.jobs import STATE_TONES, job_message, origin_text, state_word
from core.views.message import Field, Tone
from core.views.schedules import DRAFT_TONES, cron_text, draft_message, retention_text
from core.views.summary import job_sentence

HISTORY_PAGE_JOBS = 100  # the newest jobs a history page lists


@dataclass(frozen=True)
class Nav:
    """Where the shortcuts go: `g h` the target's history, `g j` its latest job ('' if none)."""

    history: str
    latest_job: str


@dataclass(frozen=True)
class JobRow:
    """One job of a history page."""

    number: str  # `#12`
    url: str
    state: str
    tone: Tone
    created: str
    duration: str
    size: str
    files: str
    origin: str


@dataclass(frozen=True)
class DiffRow:
    """One line of a review's diff: the active schedule's value, the draft's, and whether
    it changes (said in words, `changed`, never by colour alone)."""

    label: str
    before: str
    after: str
    changed: bool


@dataclass(frozen=True)
class Page:
    kind: str  # "job", "history" or "review": which template lays it out
    title: str
    status: str
    tone: Tone
    summary: str  # F2's sentence: what the "Spoken summary" button puts in the live region
    nav: Nav
    fields: tuple[Field, ...] = ()
    sections: tuple[str, ...] = ()
    rows: tuple[JobRow, ...] = ()
    more: str = ""  # said under a list that shows only the newest
    diff: tuple[DiffRow, ...] = ()
    added: tuple[str, ...] = ()  # exclusion patterns the draft adds
    removed: tuple[str, ...] = ()  # and those it removes


def job_page(
    t: Translator,
    job: Job,
    annotations: Sequence[Annotation],
    now: datetime,
    nav: Nav,
    percent: int | None = None,
) -> Page:
    message = job_message(t, job, annotations, now=now, percent=percent)
    return Page(
        kind="job",
        title=message.title,
        status=message.status,
        tone=message.tone,
        summary=message.summary,
        nav=nav,
        fields=tuple(message.facts),
        sections=message.sections,
    )


def history_page(
    t: Translator,
    target: str,
    jobs: Sequence[Job],
    now: datetime,
    nav: Nav,
    job_url: Callable[[int], str],
) -> Page:
    """`jobs` newest first; one more than HISTORY_PAGE_JOBS says there are older ones."""
    shown = jobs[:HISTORY_PAGE_JOBS]
    rows = tuple(
        JobRow(
            number=f"#{job.id}",
            url=job_url(job.id),
            state=state_word(t, job.state),
            tone=STATE_TONES[job.state],
            created=t.time(job.created_at),
            duration=t.duration(job.duration),
            size=t.size(job.size_bytes),
            files=str(job.file_count) if job.file_count is not None else "—",
            origin=origin_text(t, job),
        )
        for job in shown
    )
    latest = shown[0] if shown else None
    summary = job_sentence(t, latest, now) if latest else t.t("page.history.empty", target=target)
    return Page(
        kind="history",
        title=t.t("page.history.title", target=target),
        status=t.t("page.history.status", state=state_word(t, latest.state))
        if latest
        else t.t("page.history.no_jobs"),
        tone=STATE_TONES[latest.state] if latest else Tone.NEUTRAL,
        summary=summary,
        nav=nav,
        rows=rows,
        more=t.t("page.history.more", count=len(shown)) if len(jobs) > len(shown) else "",
    )


def review_page(
    t: Translator,
    draft: Draft,
    active: Schedule | None,
    doomed: Sequence[ArchiveRecord],
    quorum: int,
    now: datetime,
    nav: Nav,
) -> Page:
    """The draft against the active schedule, row by row, and the card's other facts."""
    card = draft_message(t, draft, active, doomed, quorum, now)
    old = active.spec if active is not None and draft.state is not DraftState.APPROVED else None
    spec = draft.spec
    none = t.t("diff.none")

    def row(key: str, before: str | None, after: str) -> DiffRow:
        shown = before if before is not None else t.t("page.review.no_schedule")
        return DiffRow(t.t(key), shown, after, before != after)

    diff = (
        row("field.schedule", cron_text(t, old) if old else None, cron_text(t, spec)),
        row(
            "field.retention",
            retention_text(t, old.retention) if old else None,
            retention_text(t, spec.retention),
        ),
        row(
            "field.exclusions",
            (", ".join(old.exclude) or none) if old else None,
            ", ".join(spec.exclude) or none,
        ),
    )
    before = old.exclude if old else ()
    diffed = {t.t("field.schedule"), t.t("field.retention"), t.t("field.exclusions")}
    return Page(
        kind="review",
        title=card.title,
        status=card.status,
        tone=DRAFT_TONES[draft.state],
        summary=card.summary,
        nav=nav,
        fields=tuple(f for f in card.facts if f.label not in diffed),
        sections=card.sections,
        diff=diff,
        added=tuple(p for p in spec.exclude if p not in before),
        removed=tuple(p for p in before if p not in spec.exclude),
    )
