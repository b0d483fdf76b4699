"""Where an export shows: the conversation it was asked in, through the platform's sender.

`SenderChannel` posts the progress line once, edits it as the export goes (posts anew where
the platform cannot edit), and posts the file in the same conversation. `ExportChannels` finds
the one for an actor: a chat platform's sender for its workspace, or a local surface (the
console) registered by the root.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from core.app.platforms import Platforms
from core.delivery.sender_keys import SenderKey
from core.delivery.senders import MessageRef, Sender, Upload
from core.domain.model import Actor
from core.exports.service import ExportChannel
from core.exports.spec import StoredExport
from core.i18n import Translator
from core.views.message import Message


class SenderChannel:
    def __init__(self, sender: Sender, channel: str, upload_limit: int, t: Translator) -> None:
        self._sender = sender
        self._channel = channel
        self.upload_limit = upload_limit
        self._t = t
        self.posted: MessageRef | None = None

    async def show(self, message: Message) -> None:
        if self.posted is not None and self._sender.edits:
            await self._sender.update(self.posted, message)
        else:
            self.posted = await self._sender.post(self._channel, message)

    async def attach(self, export: StoredExport, message: Message) -> None:
        title = self._t.t("export.upload_title", filename=export.filename)
        await self._sender.upload(
            self._channel,
            Upload(
                export.filename,
                b"",
                title,
                alt_text=message.summary,
                path=str(export.path),
                content_type=export.content_type,
            ),
        )


LocalChannel = Callable[[Actor], ExportChannel]


class ExportChannels:
    """The conversation an actor's export shows in, by platform and workspace."""

    def __init__(self, platforms: Platforms) -> None:
        self._platforms = platforms
        self._senders: Mapping[SenderKey, Sender] = {}
        self._local: dict[str, LocalChannel] = {}

    def use_senders(self, senders: Mapping[SenderKey, Sender]) -> None:
        """The chat platforms' senders (the server's, once the platforms are up)."""
        self._senders = senders

    def use_local(self, platform: str, channel: LocalChannel) -> None:
        """A local surface (the console): its own way to show an export."""
        self._local[platform] = channel

    def __call__(self, actor: Actor) -> ExportChannel | None:
        local = self._local.get(actor.platform)
        if local is not None:
            return local(actor)
        sender = self._senders.get(SenderKey(actor.platform, actor.workspace))
        if sender is None or not actor.channel:
            return None
        limit = self._platforms.upload_limit(actor.platform)
        return SenderChannel(sender, actor.channel, limit, Translator(actor.locale))
