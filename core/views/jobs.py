"""Domain objects → `Message`. Wording comes from the catalog; nothing platform-specific."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from core.commands import actions
from core.commands.forms import Form, note_form
from core.domain.capabilities import Capability
from core.domain.model import Annotation, Grant, Job, JobState, OriginKind
from core.i18n import Translator
from core.safety.redaction import redact
from core.views.message import Action, Field, Message, Tone
from core.views.summary import job_sentence

STATE_TONES: dict[JobState, Tone] = {
    JobState.QUEUED: Tone.INFO,
    JobState.RUNNING: Tone.INFO,
    JobState.SUCCEEDED: Tone.SUCCESS,
    JobState.FAILED: Tone.DANGER,
    JobState.CANCELLED: Tone.NEUTRAL,
    JobState.INTERRUPTED: Tone.WARNING,
}


def state_word(t: Translator, state: JobState) -> str:
    return t.t(f"state.{state.value}")


def platform_name(t: Translator, platform: str) -> str:
    """`teams` → `Microsoft Teams`: the name people know a platform by."""
    key = f"platform.{platform}"
    return t.t(key) if t.has(key) else platform


def origin_text(t: Translator, job: Job) -> str:
    """`Alex on Slack, in #ops`: the channel by its name, or not at all (its id means
    nothing to people)."""
    origin = job.origin
    if origin.kind is OriginKind.USER:
        platform = platform_name(t, origin.platform)
        if origin.channel_name:
            return t.t(
                "origin.user_in",
                name=job.requester_name,
                platform=platform,
                channel=origin.channel_name,
            )
        return t.t("origin.user", name=job.requester_name, platform=platform)
    return t.t(f"origin.{origin.kind.value}", reference=origin.reference)


def job_fields(t: Translator, job: Job) -> list[Field]:
    fields = [
        Field(t.t("field.target"), job.target),
        Field(t.t("field.origin"), origin_text(t, job)),
        Field(t.t("field.created"), t.time(job.created_at)),
    ]
    if job.started_at:
        fields.append(Field(t.t("field.started"), t.time(job.started_at)))
    if job.state.is_terminal:
        fields.append(Field(t.t("field.duration"), t.duration(job.duration)))
    if job.file_count is not None:
        fields.append(Field(t.t("field.files"), t.number(job.file_count)))
    if job.size_bytes is not None:
        fields.append(Field(t.t("field.size"), t.size(job.size_bytes)))
    if job.sha256:
        fields.append(Field(t.t("field.sha256"), job.sha256))
    if job.archive_path:
        fields.append(Field(t.t("field.archive"), job.archive_path.rsplit("/", 1)[-1]))
    if job.error:
        fields.append(Field(t.t("field.error"), redact(job.error)))
    return fields


def job_summary(t: Translator, job: Job, now: datetime, percent: int | None = None) -> str:
    """One spoken sentence: the status and the next recommended step (F2, core/views/summary.py)."""
    return job_sentence(t, job, now, percent)


def job_message(
    t: Translator,
    job: Job,
    annotations: Sequence[Annotation] = (),
    *,
    now: datetime,
    title_key: str = "job.title",
    percent: int | None = None,
) -> Message:
    """A job's message; `now` is when it is said (its summary says "failed 20 min ago")."""
    sections: list[str] = []
    if annotations:
        lines = [t.t("annotations.heading", count=len(annotations))]
        lines.extend(annotation_line(t, a) for a in annotations)
        sections.append("\n".join(lines))
    return Message(
        title=t.t(title_key, job=job.id, target=job.target),
        status=state_word(t, job.state),
        tone=STATE_TONES[job.state],
        field_separator=t.t("field.separator"),
        fields=tuple(job_fields(t, job)),
        sections=tuple(sections),
        actions=job_actions(t, job),
        summary=job_sentence(t, job, now, percent),
        job_id=job.id,
        summary_first=True,
    )


def job_actions(t: Translator, job: Job) -> tuple[Action, ...]:
    """The next steps a job's message offers: cancel while it runs, retry after a failure,
    and a note at any time. Jobs have no versions: the core checks the state at the press."""

    def action(
        name: str,
        key: str,
        capability: Capability,
        style: Tone = Tone.NEUTRAL,
        form: Form | None = None,
    ) -> Action:
        return Action(
            label=t.t(f"action.{key}"),
            name=name,
            object_id=str(job.id),
            version=0,
            capability=capability,
            accessibility_label=t.t(f"action.{key}.label", job=job.id, target=job.target),
            style=style,
            form=form,
        )

    buttons: list[Action] = []
    if not job.state.is_terminal:
        buttons.append(action(actions.JOB_CANCEL, "cancel_job", Capability.CANCEL, Tone.DANGER))
    elif job.state is not JobState.SUCCEEDED:
        # An interrupted run did nothing wrong: it is resumed rather than retried (E1).
        key = "resume_job" if job.state is JobState.INTERRUPTED else "retry_job"
        buttons.append(action(actions.JOB_RETRY, key, Capability.RUN, Tone.SUCCESS))
    # The note form goes with the button: Teams opens it under the card (issue 13, item 6).
    note = note_form(t, job.id)
    buttons.append(action(actions.JOB_NOTE, "note_job", Capability.ANNOTATE, form=note))
    return tuple(buttons)


def job_line(t: Translator, job: Job) -> str:
    """`#3 demo — succeeded · 1.2 MB · 214 files · 2.3 s · 2026-01-05 09:00:00 UTC · alice`."""
    parts = [f"#{job.id} {job.target} — {state_word(t, job.state)}"]
    if job.size_bytes is not None:
        parts.append(t.size(job.size_bytes))
    if job.file_count is not None:
        parts.append(t.t("line.files", count=job.file_count))
    if job.state.is_terminal:
        parts.append(t.duration(job.duration))
    parts.append(t.time(job.created_at))
    parts.append(origin_text(t, job))
    return " · ".join(parts)


def annotation_line(t: Translator, annotation: Annotation) -> str:
    kind = t.t(f"annotation.kind.{annotation.kind.value}")
    line = t.t(
        "annotation.line",
        kind=kind,
        text=annotation.text,
        author=annotation.author_name,
        time=t.time(annotation.created_at),
    )
    return f"{line} ({annotation.link})" if annotation.link else line


def grant_line(t: Translator, grant: Grant) -> str:
    scope = grant.target or t.t("role.all_targets")
    line = t.t("role.line", who=grant.principal.key, role=grant.role.value, scope=scope)
    if grant.from_configuration:
        line += " · " + t.t("role.from_config")
    return line
