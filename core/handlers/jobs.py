"""Handlers of `run`, `retry`, `log`, `status`, `history` and `cancel` (B1)."""

from __future__ import annotations

from dataclasses import replace

from core.commands import model as c
from core.domain.authorization import require, visible_targets
from core.domain.capabilities import Capability
from core.domain.events import job_ended_event
from core.domain.model import JobState, NewJob, Origin, TargetKind, TargetSpec
from core.errors import Conflict, PermissionDenied
from core.handlers.context import Context, Handler
from core.jobs.progress import ESTIMATE_LOOKBACK, estimate_from, percent_done
from core.safety.redaction import redact
from core.views.jobs import STATE_TONES, job_line, job_message, state_word
from core.views.message import Field, Message, Tone
from core.views.summary import job_sentence


async def run_job(cmd: c.RunJob, ctx: Context) -> Message:
    spec = ctx.target(cmd.target)
    await require(ctx.uow, ctx.actor, Capability.RUN, spec.name)
    if not spec.kind.runs_here:  # an outside tool runs it and reports through the API
        raise Conflict("error.target_reported", target=spec.name)
    job = await ctx.uow.jobs.add(
        NewJob(
            target=spec.name,
            origin=Origin.from_actor(ctx.actor),
            requester=ctx.actor.principal,
            requester_name=ctx.actor.display_name,
            created_at=ctx.clock.now(),
        )
    )
    await ctx.audit("job.queued", target=spec.name, job_id=job.id)
    job_id = job.id
    ctx.after_commit.append(lambda: ctx.jobs.launch(job_id))
    message = job_message(ctx.t, job, now=ctx.clock.now(), title_key="job.started_title")
    return replace(message, footer=ctx.t.t("job.started_footer", job=job.id, prefix=ctx.prefix))


async def retry_job(cmd: c.RetryJob, ctx: Context) -> Message:
    """A fresh run of the job's target; the busy-target rule still holds."""
    job = await ctx.job(cmd.job_id)
    if not job.state.is_terminal:
        raise Conflict("error.target_busy", target=job.target, job=job.id)
    message = await run_job(c.RunJob(job.target), ctx)
    await ctx.audit("job.retry", target=job.target, job_id=job.id, detail=f"retry of #{job.id}")
    return message


REPORTED_TAIL_SHOWN = 2500
MAX_HISTORY_LINKS = 10  # `history` over every target links the first ten targets' pages


async def show_log_tail(cmd: c.ShowLogTail, ctx: Context) -> Message:
    job = await ctx.job(cmd.job_id)
    await require(ctx.uow, ctx.actor, Capability.VIEW, job.target)
    t = ctx.t
    # A reported run's own output when its tool sent it (its end: a chat shows a page of it).
    run = await ctx.uow.reported_runs.for_job(job.id)
    told = run.log_tail[-REPORTED_TAIL_SHOWN:] if run is not None and run.log_tail else ""
    tail = redact(told or job.error) or t.t("log.empty")
    return Message(
        title=t.t("log.title", job=job.id, target=job.target),
        status=state_word(t, job.state),
        tone=STATE_TONES[job.state],
        sections=(tail,),
        summary=t.t("log.summary", job=job.id),
        ephemeral=True,  # for whoever asked; the alert stays as it is
        job_id=job.id,
    )


async def show_status(cmd: c.ShowStatus, ctx: Context) -> Message:
    if cmd.job_id is not None:
        job = await ctx.job(cmd.job_id)
        await require(ctx.uow, ctx.actor, Capability.VIEW, job.target)
        annotations = await ctx.uow.annotations.for_job(job.id)
        return job_message(ctx.t, job, annotations, now=ctx.clock.now())
    if cmd.target is not None:
        spec = ctx.target(cmd.target)
        await require(ctx.uow, ctx.actor, Capability.VIEW, spec.name)
        return await _target_status(spec, ctx)
    names = await visible_targets(ctx.uow, ctx.actor.principal, list(ctx.targets))
    if not names:
        raise PermissionDenied(capability=Capability.VIEW.value, target="")
    lines = [await _target_line(ctx.targets[name], ctx) for name in names]
    return Message(
        title=ctx.t.t("status.title"),
        sections=("\n".join(lines),),
        summary=ctx.t.t("status.summary", count=len(names)),
    )


async def _target_status(spec: TargetSpec, ctx: Context) -> Message:
    t = ctx.t
    # A target's active job is always its newest (no job starts while one is active), so one
    # query tells both the state and the last job.
    last = next(iter(await ctx.uow.jobs.recent(targets=[spec.name], limit=1)), None)
    active = last if last is not None and not last.state.is_terminal else None
    fields = [Field(t.t("field.kind"), spec.kind.value)]
    if spec.kind is TargetKind.ARCHIVE:
        level = spec.compression_level or spec.compression.default_level
        compression = t.t("target.compression", algorithm=spec.compression.value, level=level)
        fields.append(Field(t.t("field.compression"), compression))
    if spec.description:
        fields.append(Field(t.t("field.description"), spec.description))
    sections: list[str] = []
    if active is not None:
        status, tone = t.t("target.busy", job=active.id), Tone.INFO
    else:
        status, tone = t.t("target.idle"), Tone.NEUTRAL
    if last is not None:
        sections.append(t.t("target.last_job") + "\n" + job_line(t, last))
    elif not spec.kind.runs_here:
        sections.append(t.t("target.no_reported_jobs"))
    else:
        sections.append(t.t("target.no_jobs", prefix=ctx.prefix, target=spec.name))
    return Message(
        title=t.t("target.title", target=spec.name),
        status=status,
        tone=tone,
        field_separator=t.t("field.separator"),
        fields=tuple(fields),
        sections=tuple(sections),
        summary=spec.name + t.t("field.separator") + status,
    )


async def _target_line(spec: TargetSpec, ctx: Context) -> str:
    t = ctx.t
    active = await ctx.uow.jobs.active_for_target(spec.name)
    if active is not None:
        return t.t(
            "status.line_busy", target=spec.name, job=active.id, state=state_word(t, active.state)
        )
    last = next(iter(await ctx.uow.jobs.recent(targets=[spec.name], limit=1)), None)
    if last is None:
        return t.t("status.line_never", target=spec.name)
    return job_line(t, last)


async def show_summary(cmd: c.ShowSummary, ctx: Context) -> Message:
    """`summary <job>`: the spoken sentence of F2, to whoever asked, with the job page's link."""
    job = await ctx.job(cmd.job_id)
    await require(ctx.uow, ctx.actor, Capability.VIEW, job.target)
    percent = None
    if job.state is JobState.RUNNING:
        progress = ctx.jobs.progress_of(job.id)
        if progress is not None:
            recent = await ctx.uow.jobs.recent(targets=[job.target], limit=ESTIMATE_LOOKBACK)
            percent = percent_done(progress, estimate_from(recent))
    now = ctx.clock.now()
    sentence = job_sentence(ctx.t, job, now, percent)
    fields: tuple[Field, ...] = ()
    if ctx.pages is not None:
        link = ctx.pages.job(job.id, ctx.t.locale, now)
        fields = (Field(ctx.t.t("field.job_page"), link),)
    return Message(
        title=sentence,
        tone=STATE_TONES[job.state],
        fields=fields,
        summary=sentence,
        ephemeral=True,  # for whoever asked; the job's own message stays as it is
        job_id=job.id,
    )


async def show_history(cmd: c.ShowHistory, ctx: Context) -> Message:
    t = ctx.t
    if cmd.target is not None:
        spec = ctx.target(cmd.target)
        await require(ctx.uow, ctx.actor, Capability.VIEW, spec.name)
        names = [spec.name]
    else:
        names = await visible_targets(ctx.uow, ctx.actor.principal, list(ctx.targets))
        if not names:
            raise PermissionDenied(capability=Capability.VIEW.value, target="")
    jobs = await ctx.uow.jobs.recent(targets=names, limit=cmd.limit)
    scope = cmd.target or t.t("history.all_targets")
    body = "\n".join(job_line(t, job) for job in jobs) or t.t("history.empty")
    fields: tuple[Field, ...] = ()
    if ctx.pages is not None:  # a page shows one target's jobs: one link per target shown
        now = ctx.clock.now()
        fields = tuple(
            Field(t.t("field.history_page", target=name), ctx.pages.history(name, t.locale, now))
            for name in names[:MAX_HISTORY_LINKS]
        )
    return Message(
        title=t.t("history.title", scope=scope),
        fields=fields,
        sections=(body,),
        summary=t.t("history.summary", count=len(jobs), scope=scope),
    )


async def cancel_job(cmd: c.CancelJob, ctx: Context) -> Message:
    job = await ctx.job(cmd.job_id)
    await require(ctx.uow, ctx.actor, Capability.CANCEL, job.target)
    if job.state.is_terminal:
        raise Conflict("error.job_finished", job=job.id, state=state_word(ctx.t, job.state))
    if job.state is JobState.QUEUED:
        job.transition(JobState.CANCELLED, ctx.clock.now())
        await ctx.uow.jobs.save(job)
        await ctx.uow.outbox.add(job_ended_event(job))
        await ctx.audit("job.cancelled", target=job.target, job_id=job.id)
        return job_message(ctx.t, job, now=ctx.clock.now())
    # Running: the owning worker stops it (here, or in another process via the flag).
    job.cancel_requested = True
    await ctx.uow.jobs.save(job)
    job_id = job.id
    ctx.after_commit.append(lambda: ctx.jobs.request_cancel(job_id))
    return Message(
        title=ctx.t.t("job.title", job=job.id, target=job.target),
        status=ctx.t.t("state.cancelling"),
        tone=Tone.WARNING,
        summary=ctx.t.t("cancel.summary", job=job.id),
        job_id=job.id,
    )


HANDLERS: dict[type[c.Command], Handler] = {
    c.RunJob: run_job,
    c.RetryJob: retry_job,
    c.ShowLogTail: show_log_tail,
    c.ShowStatus: show_status,
    c.ShowSummary: show_summary,
    c.ShowHistory: show_history,
    c.CancelJob: cancel_job,
}
