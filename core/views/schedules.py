"""Schedules and drafts → `Message`: the diff a reviewer reads before pressing a button."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.commands.actions import DRAFT_NEW
from core.domain import cron
from core.domain.capabilities import Capability
from core.domain.schedules import (
    ArchiveRecord,
    Decision,
    Draft,
    DraftState,
    Retention,
    Schedule,
    ScheduleSpec,
    Verdict,
)
from core.i18n import Translator
from core.views.message import Action, Field, Message, Tone

DRAFT_TONES = {
    DraftState.OPEN: Tone.NEUTRAL,
    DraftState.SUBMITTED: Tone.INFO,
    DraftState.CHANGES_REQUESTED: Tone.WARNING,
    DraftState.APPROVED: Tone.SUCCESS,
    DraftState.REJECTED: Tone.DANGER,
    DraftState.WITHDRAWN: Tone.NEUTRAL,
    DraftState.EXPIRED: Tone.WARNING,
}


def retention_text(t: Translator, retention: Retention) -> str:
    if retention.keep_count is not None:
        return t.t("retention.keep_count", count=retention.keep_count)
    if retention.keep_days is not None:
        return t.t("retention.keep_days", days=t.t("count.days", count=retention.keep_days))
    return t.t("retention.keep_all")


def cron_text(t: Translator, spec: ScheduleSpec) -> str:
    return f"{spec.cron} — {cron.describe(spec.cron, t.locale)} ({spec.timezone})"


def next_runs_text(t: Translator, spec: ScheduleSpec, now: datetime) -> str:
    runs = cron.next_runs(spec.cron, spec.timezone, now)
    return ", ".join(t.minute(run) for run in runs)


def _change(t: Translator, before: str | None, after: str) -> str:
    if before is None:
        return after
    if before == after:
        return t.t("diff.unchanged", value=after)
    return f"{before} → {after}"


def _exclusion_change(t: Translator, before: tuple[str, ...], after: tuple[str, ...]) -> str:
    added = [p for p in after if p not in before]
    removed = [p for p in before if p not in after]
    if not added and not removed:
        return t.t("diff.unchanged", value=", ".join(after) or t.t("diff.none"))
    parts = [f"+ {p}" for p in added] + [f"− {p}" for p in removed]
    return ", ".join(parts)


def prune_text(t: Translator, doomed: Sequence[ArchiveRecord]) -> str:
    if not doomed:
        return t.t("prune.nothing")
    total = sum(a.size_bytes for a in doomed)
    names = ", ".join(a.path.rsplit("/", 1)[-1] for a in doomed[:5])
    more = t.t("prune.more", count=len(doomed) - 5) if len(doomed) > 5 else ""
    return t.t("prune.summary", count=len(doomed), size=t.size(total), names=names) + more


def draft_message(
    t: Translator,
    draft: Draft,
    active: Schedule | None,
    doomed: Sequence[ArchiveRecord],
    quorum: int,
    now: datetime,
) -> Message:
    # Once approved, the draft *is* the active schedule: show it plainly, not as a diff.
    compare = active if draft.state is not DraftState.APPROVED else None
    spec, old = draft.spec, compare.spec if compare else None
    fields = [
        Field(t.t("field.author"), draft.author_name),
        Field(
            t.t("field.schedule"),
            _change(t, cron_text(t, old) if old else None, cron_text(t, spec)),
        ),
        Field(t.t("field.next_runs"), next_runs_text(t, spec, now)),
        Field(
            t.t("field.retention"),
            _change(
                t,
                retention_text(t, old.retention) if old else None,
                retention_text(t, spec.retention),
            ),
        ),
        Field(
            t.t("field.exclusions"), _exclusion_change(t, old.exclude if old else (), spec.exclude)
        ),
        Field(t.t("field.prune_preview"), prune_text(t, doomed)),
        Field(t.t("field.approvals"), _approvals_text(t, draft, quorum)),
    ]
    if draft.state.is_open:
        fields.append(Field(t.t("field.expires"), t.time(draft.expires_at)))
    sections = [_decision_line(t, d) for d in draft.decisions if d.comment]
    if active is None and draft.state.is_open:
        sections.insert(0, t.t("draft.first_schedule", target=draft.target))
    actions: tuple[Action, ...] = ()
    if draft.state is DraftState.SUBMITTED:
        actions = tuple(
            Action(
                label=t.t(f"action.{verdict.value}"),
                name=f"draft.{verdict.value}",
                object_id=str(draft.id),
                version=draft.version,
                capability=Capability.APPROVE,
                accessibility_label=t.t(
                    f"action.{verdict.value}.label", draft=draft.id, target=draft.target
                ),
                style={Verdict.APPROVE: Tone.SUCCESS, Verdict.REJECT: Tone.DANGER}.get(
                    verdict, Tone.NEUTRAL
                ),
            )
            for verdict in Verdict
        )
    state = t.t(f"draft.state.{draft.state.value}")
    return Message(
        title=t.t("draft.title", draft=draft.id, target=draft.target, version=draft.version),
        status=state,
        tone=DRAFT_TONES[draft.state],
        field_separator=t.t("field.separator"),
        fields=tuple(fields),
        sections=tuple(sections),
        actions=actions,
        summary=t.t("draft.summary", draft=draft.id, target=draft.target, state=state),
        comment_label=t.t("draft.comment.label") if actions else "",
        draft_id=draft.id,
    )


def new_draft_action(t: Translator) -> Action:
    """The "New schedule draft" button: opens the draft form (`core/commands/forms.py`)."""
    return Action(
        label=t.t("action.new_draft"),
        name=DRAFT_NEW,
        object_id="",
        version=0,
        capability=Capability.DRAFT,
        accessibility_label=t.t("action.new_draft.label"),
    )


def _approvals_text(t: Translator, draft: Draft, quorum: int) -> str:
    names = ", ".join(d.reviewer_name for d in draft.approvals())
    return t.t("draft.approvals", count=len(draft.approvals()), quorum=quorum) + (
        f" ({names})" if names else ""
    )


def _decision_line(t: Translator, decision: Decision) -> str:
    return t.t(
        "draft.decision_line",
        verdict=t.t(f"verdict.{decision.verdict.value}"),
        name=decision.reviewer_name,
        version=decision.draft_version,
        comment=decision.comment,
    )


def schedule_message(t: Translator, target: str, active: Schedule | None, now: datetime) -> Message:
    if active is None:
        text = t.t("schedule.none", target=target)
        return Message(
            title=t.t("schedule.title", target=target),
            status=t.t("schedule.inactive"),
            sections=(text,),
            summary=text,
        )
    spec = active.spec
    fields = (
        Field(t.t("field.version"), str(active.version)),
        Field(t.t("field.schedule"), cron_text(t, spec)),
        Field(t.t("field.next_runs"), next_runs_text(t, spec, now)),
        Field(t.t("field.retention"), retention_text(t, spec.retention)),
        Field(t.t("field.exclusions"), ", ".join(spec.exclude) or t.t("diff.none")),
        Field(t.t("field.activated"), f"{t.time(active.activated_at)} · {active.activated_by}"),
    )
    return Message(
        title=t.t("schedule.title", target=target),
        status=t.t("schedule.active"),
        tone=Tone.SUCCESS,
        field_separator=t.t("field.separator"),
        fields=fields,
        summary=t.t("schedule.summary", target=target, cron=cron.describe(spec.cron, t.locale)),
    )
