"""`annotate` (B3): a note on a job, typed or sent from the thread where its alert landed."""

from __future__ import annotations

from core.commands import model as c
from core.domain.authorization import require
from core.domain.capabilities import Capability
from core.domain.model import Annotation
from core.handlers.context import Context, Handler
from core.safety.redaction import redact
from core.views.message import Field, Message, Tone


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
        field_separator=t.t("field.separator"),
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


HANDLERS: dict[type[c.Command], Handler] = {
    c.Annotate: annotate,
}
