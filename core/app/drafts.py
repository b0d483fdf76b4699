"""A draft decided in one place, redrawn everywhere its card was posted (issue 17).

A submitted draft's review card is the reply in the conversation it was submitted from, and
an alert in each channel subscribed to `review`. Whoever presses Approve on one of them sees
that one redrawn by the press itself; this redraws the others on one chat platform, so
nobody is left looking at buttons of a draft already decided. One redrawer per platform, a
service draft listener.
"""

from __future__ import annotations

import logging

from core.app.service import CommandService
from core.app.surface import ChatSurface
from core.delivery.senders import DeliveryError, MessageRef

log = logging.getLogger(__name__)


class DraftCardRedrawer:
    def __init__(self, service: CommandService, surface: ChatSurface) -> None:
        self._service = service
        self._surface = surface

    async def redraw(self, draft_id: int, pressed: str = "") -> int:
        """Redraw the draft's cards on this platform but the one `pressed`
        (`"<channel>:<id>"`); returns how many were redrawn. Channels read English (F4)."""
        cards = await self._service.posted_for_draft(draft_id, self._surface.platform)
        if not cards:
            return 0
        card = await self._service.draft_card(draft_id)
        if card is None:
            return 0
        channel, _, message_id = pressed.rpartition(":")
        redrawn = 0
        for where in cards:
            if where.message_id == message_id and channel.partition(";")[0] == where.channel:
                continue  # the press redrew it, in the presser's words
            try:
                await self._surface.update(
                    where.workspace, MessageRef(where.channel, where.message_id), card
                )
                redrawn += 1
            except DeliveryError as error:
                log.warning(
                    "could not redraw draft #%s's card in %s %s: %s",
                    draft_id,
                    self._surface.platform,
                    where.channel,
                    error.detail,
                )
        return redrawn
