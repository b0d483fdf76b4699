"""The viewer's overview (Slack App Home): recent jobs, drafts awaiting their review, quotas."""

from __future__ import annotations

from core.commands import model as c
from core.domain.authorization import has_capability, visible_targets
from core.domain.capabilities import Capability
from core.domain.schedules import DraftState
from core.handlers.context import Context, Handler
from core.handlers.quotas import quota_line
from core.views.jobs import job_line
from core.views.message import Message
from core.views.schedules import new_draft_action

RECENT_JOBS = 8


async def show_home(cmd: c.ShowHome, ctx: Context) -> Message:
    t, me = ctx.t, ctx.actor.principal
    names = await visible_targets(ctx.uow, me, list(ctx.targets))
    if not names:
        text = t.t("home.no_access")
        return Message(title=t.t("home.title"), sections=(text,), summary=text)
    jobs = await ctx.uow.jobs.recent(targets=names, limit=RECENT_JOBS)
    awaiting = [
        d
        for d in await ctx.uow.drafts.open_drafts()
        if d.state is DraftState.SUBMITTED
        and d.target in names
        and d.author != me
        and all(a.reviewer != me for a in d.approvals())
        and await has_capability(ctx.uow, me, Capability.APPROVE, d.target)
    ]
    quotas = [quota_line(t, ctx.targets[n], await ctx.uow.quotas.get(n)) for n in names]
    review_lines = [
        t.t(
            "home.draft_line",
            draft=d.id,
            target=d.target,
            version=d.version,
            author=d.author_name,
            prefix=ctx.prefix,
        )
        for d in awaiting
    ]
    sections = (
        t.t("home.recent")
        + "\n"
        + ("\n".join(job_line(t, j) for j in jobs) or t.t("history.empty")),
        t.t("home.awaiting") + "\n" + ("\n".join(review_lines) or t.t("home.nothing_to_review")),
        t.t("home.quotas") + "\n" + "\n".join(quotas),
    )
    return Message(
        title=t.t("home.title"),
        sections=sections,
        actions=(new_draft_action(t),),
        summary=t.t(
            "home.summary",
            jobs=t.t("count.recent_jobs", count=len(jobs)),
            drafts=t.t("count.drafts_to_review", count=len(awaiting)),
        ),
    )


HANDLERS: dict[type[c.Command], Handler] = {c.ShowHome: show_home}
