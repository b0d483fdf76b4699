"""What the shared chat interactions need of a chat platform: the `ChatSurface` port.

Slack, Teams and Discord each implement it over their own API client (adapters/*/); the
announcer, the post book and the note logic of core/app/ speak only to it, so they decide
the same thing on every platform and an adapter keeps only its codec, renderer and transport.
"""

from __future__ import annotations

import logging
from typing import Protocol

from core.delivery.senders import DeliveryError, MessageRef
from core.domain.model import Actor, Principal
from core.views.message import Message

log = logging.getLogger(__name__)


class ChatSurface(Protocol):
    """A chat platform as the shared interactions see it. `workspace` is the one a message
    was posted in (a Slack team, a Teams tenant, a Discord guild): some platforms need it to
    find their way back there. Each method raises `DeliveryError` when the platform refuses."""

    platform: str  # "slack", "teams", "discord": how posts and principals name it

    async def update(self, workspace: str, ref: MessageRef, message: Message) -> None:
        """Redraw a message the bot posted, for everyone who sees it."""
        ...

    async def reply(self, workspace: str, parent: MessageRef, message: Message) -> MessageRef:
        """Post in the thread (reply chain, conversation) of `parent`."""
        ...

    async def private(self, user: Principal, message: Message) -> MessageRef:
        """A direct message to one person."""
        ...

    async def locale_of(self, user: Principal) -> str:
        """The language a person reads the bot in ("en" when unknown)."""
        ...


async def tell_privately(surface: ChatSurface, actor: Actor, message: Message) -> None:
    """A reply with no message to answer under (an app's home tab, a global shortcut): a
    direct message, or a line in the log when the platform will not take it."""
    try:
        await surface.private(actor.principal, message)
    except DeliveryError as error:
        log.warning("could not message %s privately: %s", actor.principal, error)
