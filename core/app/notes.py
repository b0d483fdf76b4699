"""Notes from threads (B3): words addressed to the bot in the thread of a job's message
annotate that job; anywhere else they are a command.

The platform says where the words were written (the thread's parent message) and gives a
link back to them; the post book (core/app/posts.py) knows which job that parent is about.
"""

from __future__ import annotations

from core.app.service import CommandService
from core.commands import model as c
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.model import Actor
from core.safety.text import clean, has_words
from core.views.message import Message

HELP_ANNOTATE = "help annotate"  # the answer to an empty mention in a job's thread
HELP = "help"  # the answer to an empty mention anywhere else


async def job_of(service: CommandService, platform: str, *places: tuple[str, str]) -> int | None:
    """The job the first of `places` (channel, message id) that the bot posted about a job
    is about, or None."""
    for channel, message_id in places:
        posted = await service.find_posted(platform, channel, message_id)
        if posted is not None and posted.job_id is not None:
            return posted.job_id
    return None


async def note_or_command(
    service: CommandService,
    actor: Actor,
    text: str,
    *,
    platform: str,
    channel: str,
    parent: str,
    link: str,
    raw: str,
    prefix: str,
    once: str = "",
) -> Message:
    """The answer to `text`, written to the bot in the thread of the message `parent` of
    `channel` (none when not in a thread): in a job's thread, a note on the job linking back
    to the words (`link`), audited as `raw`; elsewhere, the command `text` (help if empty)."""
    job_id = await job_of(service, platform, (channel, parent)) if parent else None
    if job_id is None:
        return await service.execute_text(text or HELP, actor, prefix=prefix, once=once)
    return await note_on(service, actor, job_id, text, link=link, raw=raw, prefix=prefix, once=once)


async def note_on(
    service: CommandService,
    actor: Actor,
    job_id: int,
    text: str,
    *,
    link: str,
    raw: str,
    prefix: str,
    once: str = "",
) -> Message:
    """The answer to `text`, written to the bot in job `job_id`'s thread: a note on the job
    linking back to the words (`link`), audited as `raw`; how to annotate, if it is empty
    (also once cleaned, or of zero-width marks alone: either would be saved as an empty note)."""
    text = clean(text).strip()
    if not has_words(text):
        return await service.execute_text(HELP_ANNOTATE, actor, prefix=prefix)
    note = c.Annotate(job_id, text, link=link)
    return await service.execute(note, actor, raw=raw, prefix=prefix, once=once)


async def discussed_at(service: CommandService, platform: str, job_id: int) -> PostedMessage | None:
    """Where a job is discussed on `platform`: its first card or alert, under which a note
    saved elsewhere (a form) is said."""
    for posted in await service.posted_for_job(job_id, platform):
        if posted.kind in (PostedKind.JOB, PostedKind.ALERT):
            return posted
    return None
