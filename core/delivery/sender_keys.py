"""Which sender speaks for a place (a destination, a posted message, a person).

Kept apart from `core.delivery.senders` so that the modules it names (webhooks, pacing) can
use it without importing what a sender sends (`Message` and the command model).
"""

from __future__ import annotations

from typing import Protocol


class _Placed(Protocol):
    @property
    def platform(self) -> str: ...
    @property
    def workspace(self) -> str: ...


class SenderKey(str):
    """Which `Sender` speaks for a place: `<platform>:<workspace>` (`discord:` for Discord's
    direct messages, `webhook:<format>` for webhooks). Built here, never by hand; it stays a
    `str` so logs and configuration (`EXPORTBOT_WORKSPACES`) read the same."""

    __slots__ = ()

    def __new__(cls, platform: str, workspace: str = "") -> SenderKey:
        return super().__new__(cls, f"{platform}:{workspace}")

    @classmethod
    def of(cls, where: _Placed) -> SenderKey:
        """The key of the sender for a destination, a posted message or a person."""
        return cls(where.platform, where.workspace)

    @classmethod
    def parse(cls, text: str) -> SenderKey:
        """`"teams:<tenant>"` (a served workspace, as configured) → its key."""
        platform, _, workspace = text.partition(":")
        return cls(platform, workspace)

    @property
    def platform(self) -> str:
        return self.partition(":")[0]

    @property
    def workspace(self) -> str:
        return self.partition(":")[2]
