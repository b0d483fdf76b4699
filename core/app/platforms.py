"""What the core may know of a platform, declared by the platform's own adapter package.

Each adapter exports a `PlatformProfile` beside its entry point (`adapters/slack/__init__.py`);
the composition root (bot/bootstrap.py) gathers them into `Platforms` and hands that to the
service (who is local), the dispatcher and the fan-out (whom a person can be messaged on, how
the bot is invoked there) and the pacer (how fast a destination takes messages). The core
itself names no platform.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from core.delivery.pacing import Pace


@dataclass(frozen=True)
class PlatformProfile:
    """One platform's facts.

    Attributes:
        name: as in principals and destinations (`slack`, `webhook`).
        prefix: how people invoke the bot there, shown in hints (`/export `); "" for none.
        verb_prefixes: how some verbs are invoked instead, by the first word of their path
            (Discord's admin verbs live under `/export-admin `: one command cannot hold them
            all within Discord's 4,000 characters).
        pace: how fast one destination on this platform takes messages; None for the
            pacer's default.
        workspace_paces: paces of some of its workspaces, by workspace (a webhook's
            workspace is its format: `slack`, `discord`…); they win over `pace`.
        local: its people are on this machine (the console): always served.
        chat: its people can be messaged by the bot (private alerts, C3).
        upload_limit: the largest file (bytes) the bot may post there; 0: none (the link
            to a larger export is sent alone).
    """

    name: str
    prefix: str = ""
    verb_prefixes: Mapping[str, str] = field(default_factory=dict)
    pace: Pace | None = None
    workspace_paces: Mapping[str, Pace] = field(default_factory=dict)
    local: bool = False
    chat: bool = False
    upload_limit: int = 0


class Platforms:
    """The profiles of every platform this process knows, looked up by name."""

    def __init__(self, profiles: Iterable[PlatformProfile]) -> None:
        self._profiles: dict[str, PlatformProfile] = {}
        for profile in profiles:
            if profile.name in self._profiles:
                raise ValueError(f"Platform '{profile.name}' has two profiles.")
            self._profiles[profile.name] = profile
        self.local = frozenset(p.name for p in self._profiles.values() if p.local)
        self.chat = frozenset(p.name for p in self._profiles.values() if p.chat)

    def __iter__(self) -> Iterator[PlatformProfile]:
        return iter(self._profiles.values())

    def prefix(self, platform: str, verb: str = "") -> str:
        """How the bot is invoked on `platform` for `verb` ("" for an unknown platform)."""
        profile = self._profiles.get(platform)
        if profile is None:
            return ""
        return profile.verb_prefixes.get(verb.split(" ", 1)[0], profile.prefix)

    def verb_prefixes(self, platform: str) -> Mapping[str, str]:
        """The verbs invoked otherwise than with the platform's prefix, by first word."""
        profile = self._profiles.get(platform)
        return profile.verb_prefixes if profile is not None else {}

    def upload_limit(self, platform: str) -> int:
        """The largest file the bot may post on `platform` (0 for an unknown one)."""
        profile = self._profiles.get(platform)
        return profile.upload_limit if profile is not None else 0

    def paces(self) -> dict[str, Pace]:
        """Paces keyed as the pacer looks them up: `platform` or `platform:workspace`."""
        paces: dict[str, Pace] = {}
        for profile in self._profiles.values():
            if profile.pace is not None:
                paces[profile.name] = profile.pace
            for workspace, pace in profile.workspace_paces.items():
                paces[f"{profile.name}:{workspace}"] = pace
        return paces
