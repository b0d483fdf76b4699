"""Command handlers: `(command, context) -> Message`, inside one unit of work.

Each checks its capability first (B2), changes state, appends audit entries (B6), and leaves
side effects that must follow the commit (starting a job thread) in `context.after_commit`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, Protocol

from core import commands as c
from core.authorization import has_capability, require, resolve_principal, visible_targets
from core.capabilities import Capability, Role
from core.errors import Conflict, NotFound, PermissionDenied
from core.events import job_ended_event
from core.grammar import REGISTRY, all_verbs, find_verb
from core.i18n import Translator
from core.messages import Field, Message, Tone
from core.model import (
    Actor,
    Annotation,
    AuditEntry,
    Grant,
    Job,
    JobState,
    NewJob,
    Origin,
    Outcome,
    Principal,
    TargetSpec,
)
from core.ports import Clock, UnitOfWork
from core.redaction import redact
from core.suggest import suggest
from core.views import STATE_TONES, grant_line, job_line, job_message, state_word

DEFAULT_DRAFT_TTL = timedelta(days=7)


class JobControl(Protocol):
    """What handlers need from the executor; called only after the commit."""

    def launch(self, job_id: int) -> None: ...

    def request_cancel(self, job_id: int) -> bool: ...


@dataclass
class Context:
    uow: UnitOfWork
    actor: Actor
    t: Translator
    clock: Clock
    targets: Mapping[str, TargetSpec]
    jobs: JobControl
    prefix: str = ""
    draft_ttl: timedelta = DEFAULT_DRAFT_TTL
    # Called after a commit that activated a schedule (the scheduler re-reads its table).
    schedule_listeners: Sequence[Callable[[], object]] = ()
    # Webhooks may go to loopback and private networks (on-premises receivers, tests).
    webhook_allow_private: bool = False
    after_commit: list[Callable[[], object]] = field(default_factory=list)
    # Whether the bot serves a principal's workspace (CommandService.serves_principal).
    serves: Callable[[Principal], bool] = lambda principal: True

    def target(self, name: str) -> TargetSpec:
        spec = self.targets.get(name)
        if spec is None:
            raise NotFound(
                "error.target_not_found",
                target=name,
                suggestion=suggest(name, list(self.targets)),
                targets=", ".join(self.targets) or "—",
            )
        return spec

    async def job(self, job_id: int) -> Job:
        job = await self.uow.jobs.get(job_id)
        if job is None:
            raise NotFound("error.job_not_found", job=job_id)
        return job

    async def audit(
        self,
        action: str,
        *,
        target: str | None = None,
        job_id: int | None = None,
        detail: str = "",
        outcome: Outcome = Outcome.OK,
    ) -> None:
        await self.uow.audit.append(
            audit_entry(self.actor, self.clock, action, outcome, target, job_id, detail)
        )


def audit_entry(
    actor: Actor,
    clock: Clock,
    action: str,
    outcome: Outcome,
    target: str | None = None,
    job_id: int | None = None,
    detail: str = "",
) -> AuditEntry:
    return AuditEntry(
        at=clock.now(),
        actor=actor.principal.key,
        actor_name=actor.display_name,
        platform=actor.platform,
        workspace=actor.workspace,
        channel=actor.channel,
        action=action,
        outcome=outcome,
        target=target,
        job_id=job_id,
        detail=redact(detail)[:1000],  # G3: the audit log is append-only; redact whole, then cut
    )


async def run_job(cmd: c.RunJob, ctx: Context) -> Message:
    spec = ctx.target(cmd.target)
    await require(ctx.uow, ctx.actor, Capability.RUN, spec.name)
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
    message = job_message(ctx.t, job, title_key="job.started_title")
    return replace(message, footer=ctx.t.t("job.started_footer", job=job.id, prefix=ctx.prefix))


async def retry_job(cmd: c.RetryJob, ctx: Context) -> Message:
    """A fresh run of the job's target; the busy-target rule still holds."""
    job = await ctx.job(cmd.job_id)
    if not job.state.is_terminal:
        raise Conflict("error.target_busy", target=job.target, job=job.id)
    message = await run_job(c.RunJob(job.target), ctx)
    await ctx.audit("job.retry", target=job.target, job_id=job.id, detail=f"retry of #{job.id}")
    return message


async def show_log_tail(cmd: c.ShowLogTail, ctx: Context) -> Message:
    job = await ctx.job(cmd.job_id)
    await require(ctx.uow, ctx.actor, Capability.VIEW, job.target)
    t = ctx.t
    tail = redact(job.error) or t.t("log.empty")
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
        return job_message(ctx.t, job, annotations)
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
    if spec.description:
        fields.append(Field(t.t("field.description"), spec.description))
    sections: list[str] = []
    if active is not None:
        status, tone = t.t("target.busy", job=active.id), Tone.INFO
    else:
        status, tone = t.t("target.idle"), Tone.NEUTRAL
    if last is not None:
        sections.append(t.t("target.last_job") + "\n" + job_line(t, last))
    else:
        sections.append(t.t("target.no_jobs", prefix=ctx.prefix, target=spec.name))
    return Message(
        title=t.t("target.title", target=spec.name),
        status=status,
        tone=tone,
        fields=tuple(fields),
        sections=tuple(sections),
        summary=f"{spec.name}: {status}",
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
    return Message(
        title=t.t("history.title", scope=scope),
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
        return job_message(ctx.t, job)
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


async def annotate(cmd: c.Annotate, ctx: Context) -> Message:
    job = await ctx.job(cmd.job_id)
    await require(ctx.uow, ctx.actor, Capability.ANNOTATE, job.target)
    note = await ctx.uow.annotations.add(
        Annotation(
            id=None,
            job_id=job.id,
            kind=cmd.kind,
            text=redact(cmd.text),  # G3: a note is shown in channels and exported
            author=ctx.actor.principal,
            author_name=ctx.actor.display_name,
            created_at=ctx.clock.now(),
            link=cmd.link,
        )
    )
    detail = f"{cmd.kind.value}: {note.text}"
    await ctx.audit("annotation.added", target=job.target, job_id=job.id, detail=detail)
    t = ctx.t
    return Message(
        title=t.t("annotate.title", job=job.id, target=job.target),
        status=t.t("annotate.status"),
        tone=Tone.SUCCESS,
        fields=(
            Field(t.t("field.kind"), t.t(f"annotation.kind.{note.kind.value}")),
            Field(t.t("field.author"), note.author_name),
            Field(t.t("field.time"), t.time(note.created_at)),
            *((Field(t.t("field.link"), note.link),) if note.link else ()),
        ),
        sections=(note.text,),
        summary=t.t("annotate.summary", job=job.id, author=note.author_name),
        job_id=job.id,
    )


async def grant_role(cmd: c.GrantRole, ctx: Context) -> Message:
    target = ctx.target(cmd.target).name if cmd.target else None
    await require(ctx.uow, ctx.actor, Capability.MANAGE_ROLES, target)
    principal = resolve_principal(cmd.who, ctx.actor)
    scope = target or ctx.t.t("role.all_targets")
    if await ctx.uow.grants.find(principal, cmd.role, target) is not None:
        return Message(
            title=ctx.t.t("role.already", who=principal.key, role=cmd.role.value, scope=scope),
            summary=ctx.t.t("role.already", who=principal.key, role=cmd.role.value, scope=scope),
        )
    await ctx.uow.grants.add(
        Grant(principal, cmd.role, target, ctx.actor.principal.key, ctx.clock.now())
    )
    await ctx.audit("role.grant", target=target, detail=f"{principal.key} {cmd.role.value}")
    text = ctx.t.t("role.granted", who=principal.key, role=cmd.role.value, scope=scope)
    return Message(
        title=text, status=ctx.t.t("role.status_granted"), tone=Tone.SUCCESS, summary=text
    )


async def revoke_role(cmd: c.RevokeRole, ctx: Context) -> Message:
    target = ctx.target(cmd.target).name if cmd.target else None
    await require(ctx.uow, ctx.actor, Capability.MANAGE_ROLES, target)
    principal = resolve_principal(cmd.who, ctx.actor)
    scope = target or ctx.t.t("role.all_targets")
    grant = await ctx.uow.grants.find(principal, cmd.role, target)
    if grant is None:
        raise NotFound("error.grant_not_found", who=principal.key, role=cmd.role.value, scope=scope)
    if grant.from_configuration:
        raise Conflict("error.grant_from_config", who=principal.key, role=cmd.role.value)
    if cmd.role is Role.ADMIN and target is None:
        # Admins of a workspace the bot does not serve could never use their right.
        holders = await ctx.uow.grants.global_holders(Role.ADMIN, for_change=True)
        if not any(p != principal and ctx.serves(p) for p in holders):
            raise Conflict("error.last_admin", who=principal.key)
    await ctx.uow.grants.remove(principal, cmd.role, target)
    await ctx.audit("role.revoke", target=target, detail=f"{principal.key} {cmd.role.value}")
    text = ctx.t.t("role.revoked", who=principal.key, role=cmd.role.value, scope=scope)
    return Message(
        title=text, status=ctx.t.t("role.status_revoked"), tone=Tone.SUCCESS, summary=text
    )


async def list_roles(cmd: c.ListRoles, ctx: Context) -> Message:
    t = ctx.t
    is_manager = await has_capability(ctx.uow, ctx.actor.principal, Capability.MANAGE_ROLES)
    if cmd.who is None:
        if is_manager:
            grants = list(await ctx.uow.grants.all())
            title = t.t("role.list_all")
        else:
            grants = list(await ctx.uow.grants.for_principal(ctx.actor.principal))
            title = t.t("role.list_for", who=ctx.actor.principal.key)
    else:
        principal = resolve_principal(cmd.who, ctx.actor)
        if principal != ctx.actor.principal and not is_manager:
            raise PermissionDenied(capability=Capability.MANAGE_ROLES.value, target="")
        grants = list(await ctx.uow.grants.for_principal(principal))
        title = t.t("role.list_for", who=principal.key)
    body = "\n".join(grant_line(t, g) for g in grants) or t.t("role.none", prefix=ctx.prefix)
    return Message(title=title, sections=(body,), summary=t.t("role.summary", count=len(grants)))


@functools.lru_cache(maxsize=32)
def help_overview(locale: str, prefix: str) -> Message:
    """The command list never changes while the bot runs: built once per language and surface."""
    t = Translator(locale)
    lines = [f"{prefix}{verb.usage} — {t.t(verb.summary_key)}" for verb in all_verbs()]
    return Message(
        title=t.t("help.title"),
        sections=("\n".join(lines), t.t("help.more", prefix=prefix)),
        summary=t.t("help.summary"),
    )


async def show_help(cmd: c.ShowHelp, ctx: Context) -> Message:
    t = ctx.t
    if cmd.topic is None:
        return help_overview(t.locale, ctx.prefix)
    verb = find_verb(cmd.topic)
    if verb is None:
        raise NotFound(
            "error.unknown_help_topic",
            word=cmd.topic,
            suggestion=suggest(cmd.topic, [v.name for v in REGISTRY]),
            prefix=ctx.prefix,
        )
    verbs = verb.subverbs or (verb,)
    sections = []
    for leaf in verbs:
        lines = [f"{ctx.prefix}{leaf.usage}", t.t(leaf.summary_key)]
        if leaf.capability is not None:
            lines.append(t.t("help.needs", capability=t.t(f"capability.{leaf.capability.value}")))
        if leaf.examples:
            lines.append(t.t("help.examples"))
            lines.extend(f"  {ctx.prefix}{example}" for example in leaf.examples)
        sections.append("\n".join(lines))
    return Message(
        title=t.t("help.topic_title", verb=verb.path),
        sections=tuple(sections),
        summary=t.t(verb.summary_key),
    )


Handler = Callable[[Any, Context], Awaitable[Message]]

HANDLERS: dict[type[c.Command], Handler] = {
    c.RunJob: run_job,
    c.RetryJob: retry_job,
    c.ShowLogTail: show_log_tail,
    c.ShowStatus: show_status,
    c.ShowHistory: show_history,
    c.CancelJob: cancel_job,
    c.Annotate: annotate,
    c.GrantRole: grant_role,
    c.RevokeRole: revoke_role,
    c.ListRoles: list_roles,
    c.ShowHelp: show_help,
}
