"""Remembering where the bot posted, so a note in a message's thread finds its job (B3) and
a job's end finds its card.

A quick job may end before its card is remembered: the announcer then found nothing to
redraw. So whoever remembers a job's card looks at once whether the job has ended, and if so
tells its end itself (the announcer tells each end once, whoever comes first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.app.service import CommandService
from core.delivery.senders import MessageRef
from core.domain.conversations import PostedKind, PostedMessage
from core.domain.model import Job
from core.ports import Clock

OnEnded = Callable[[Job], Awaitable[None]]


class PostBook:
    """The messages one chat platform's bot posted, by workspace, channel and message id."""

    def __init__(
        self, service: CommandService, clock: Clock, platform: str, on_ended: OnEnded
    ) -> None:
        self._service = service
        self._clock = clock
        self._platform = platform
        self._on_ended = on_ended  # the platform's job-end announcer

    async def remember(
        self,
        workspace: str,
        ref: MessageRef,
        kind: PostedKind,
        *,
        job_id: int | None = None,
        draft_id: int | None = None,
    ) -> None:
        """Keep one posted message (a note, an alert, a draft's card) and the job or draft
        it is about."""
        await self._service.record_posted(
            PostedMessage(
                self._platform,
                workspace,
                ref.channel,
                ref.message_id,
                kind,
                self._clock.now(),
                job_id=job_id,
                draft_id=draft_id,
            )
        )

    async def remember_job(
        self, workspace: str, card: MessageRef, job_id: int, *, chain_root: str = ""
    ) -> None:
        """Keep a job's card (and the root of the reply chain it was answered in, if any, so a
        reply anywhere in that chain annotates the job), then tell the job's end if it
        already came. A card the platform gave no id for (empty) cannot be kept."""
        if chain_root:
            root = MessageRef(card.channel, chain_root)
            await self.remember(workspace, root, PostedKind.NOTE, job_id=job_id)
        if card.message_id:
            await self.remember(workspace, card, PostedKind.JOB, job_id=job_id)
        ended = await self._service.ended_job(job_id)
        if ended is not None:
            await self._on_ended(ended)
