"""The end of a job, told where its card was posted: the card redrawn in place, and one
sentence saying how it ended in the card's thread (F1, F2). One announcer per chat platform,
an executor listener.

The listener and the poster of a card remembered after a quick job ended (core/app/posts.py)
may both come here for the same job: only the first tells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from core.app.service import CommandService
from core.app.surface import ChatSurface
from core.delivery.senders import DeliveryError, MessageRef
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.model import Job
from core.support.once import Once
from core.views.message import Message, ending

log = logging.getLogger(__name__)

ThreadOf = Callable[[PostedMessage, Sequence[PostedMessage]], str]


def under_the_card(card: PostedMessage, posted: Sequence[PostedMessage]) -> str:
    """Where the ending is said, by default: in the thread of the card itself."""
    return card.message_id


def in_reply_chain(card: PostedMessage, posted: Sequence[PostedMessage]) -> str:
    """Where the ending goes on a platform that answers in reply chains (Teams): the chain
    the card was answered in, whose root was remembered beside it (a note post in the card's
    channel), else under the card."""
    roots = {(p.channel, p.workspace): p.message_id for p in posted if p.kind is PostedKind.NOTE}
    return roots.get((card.channel, card.workspace), card.message_id)


class JobEndAnnouncer:
    """Tells a job's end on one chat platform.

    Args:
        service: the application service (posts, jobs, views).
        surface: the platform.
        with_notes: redraw the card with the job's notes, for platforms whose cards show
            them (a note added from under the card must not vanish when the job ends).
        thread_of: the id of the message under which the ending goes, given the card and
            everything posted about the job (a platform may answer a card in a chain whose
            root is another message).
    """

    def __init__(
        self,
        service: CommandService,
        surface: ChatSurface,
        *,
        with_notes: bool = False,
        thread_of: ThreadOf = under_the_card,
    ) -> None:
        self._service = service
        self._surface = surface
        self._with_notes = with_notes
        self._thread_of = thread_of
        self._told = Once()  # jobs whose end was told

    async def announce(self, job: Job) -> None:
        """Redraw the job's cards and say how it ended under each; nothing when the job has
        no card on this platform or its end was told already."""
        platform = self._surface.platform
        posted = await self._service.posted_for_job(job.id, platform)
        cards = [p for p in posted if p.kind is PostedKind.JOB]
        if not cards or not self._told.first(job.id):
            return
        card = await self._card(job)
        for where in cards:
            ref = MessageRef(where.channel, where.message_id)
            thread = MessageRef(where.channel, self._thread_of(where, posted))
            try:
                await self._surface.update(where.workspace, ref, card)
                await self._surface.reply(where.workspace, thread, ending(card))
            except DeliveryError as error:
                log.warning(
                    "could not tell %s %s that job #%s ended: %s",
                    platform,
                    where.channel,
                    job.id,
                    error.detail,
                )

    async def _card(self, job: Job) -> Message:
        # The card keeps the language it was posted in: its requester's.
        locale = "en"
        requester = job.requester
        if requester is not None and requester.platform == self._surface.platform:
            locale = await self._surface.locale_of(requester)
        noted = await self._service.job_view(job.id, locale) if self._with_notes else None
        return noted or self._service.job_message(job, locale)
