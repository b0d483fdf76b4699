"""Who is speaking: Slack payloads → core `Actor`s, with names and locales from `users.info`.

Principals are (slack, team id, user id), so two workspaces' users never merge (B2). Slack
payloads carry ids, not locales; `users.info` gives both the name people recognise and the
locale (F4). Answers are cached; a failed or slow lookup falls back to the id and English,
and is asked again next time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.domain.model import Actor, Principal

log = logging.getLogger(__name__)

PROFILE_TTL = 3600.0  # seconds; names and locales change rarely
# A slow directory must not hold an answer: past this, the id and English stand in.
LOOKUP_TIMEOUT = 2.0


@dataclass(frozen=True)
class Profile:
    name: str
    locale: str


class UserDirectory:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = PROFILE_TTL,
        lookup_timeout: float = LOOKUP_TIMEOUT,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._lookup_timeout = lookup_timeout
        self._cache: dict[str, tuple[float, Profile]] = {}

    async def profile(self, user_id: str, fallback_name: str = "") -> Profile:
        cached = self.known(user_id)
        if cached is not None:
            return cached
        try:
            async with asyncio.timeout(self._lookup_timeout):
                answer = await self._client.users_info(user=user_id, include_locale=True)
        except (SlackApiError, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("users.info failed for %s: %s", user_id, error)
            # Not remembered: the next message asks again instead of an hour of ids.
            return Profile(fallback_name or user_id, "en")
        user = answer.get("user") or {}
        details = user.get("profile") or {}
        name = details.get("display_name") or details.get("real_name") or user.get("name")
        profile = Profile(str(name or fallback_name or user_id), str(user.get("locale") or "en"))
        self._cache[user_id] = (time.monotonic(), profile)
        return profile

    def known(self, user_id: str) -> Profile | None:
        """The profile already looked up, without asking Slack."""
        cached = self._cache.get(user_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        return None

    async def actor(
        self,
        team: str,
        user: str,
        *,
        channel: str = "",
        thread: str = "",
        name: str = "",
        channel_name: str = "",
    ) -> Actor:
        profile = await self.profile(user, name)
        return Actor(
            Principal("slack", team, user),
            profile.name,
            profile.locale,
            channel=channel,
            thread=thread,
            channel_name=shown_channel_name(channel_name),
        )


# What Slack puts in `channel_name` where a conversation has no name people know.
_NO_NAME = frozenset({"directmessage", "privategroup"})


def shown_channel_name(raw: str) -> str:
    """`ops` → `#ops`; a direct message's placeholder ("directmessage", "mpdm-a--b-1") → ""."""
    raw = raw.strip()
    if not raw or raw in _NO_NAME or raw.startswith("mpdm-"):
        return ""
    return f"#{raw}"


def interaction_ids(body: dict[str, Any]) -> tuple[str, str, str]:
    """(team, user, channel) of a `block_actions`, shortcut or `view_submission` payload."""
    user = body.get("user") or {}
    team = user.get("team_id") or (body.get("team") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id", "")
    return str(team), str(user.get("id", "")), str(channel)


def interaction_channel_name(body: dict[str, Any]) -> str:
    """The raw `channel.name` of an interaction payload (none on a modal's submission)."""
    return str((body.get("channel") or {}).get("name") or "")


def request_key(body: Mapping[str, Any]) -> str:
    """The request's trigger id: each slash command and interaction has its own, and a
    replay repeats it, so the core acts on it once (E2)."""
    trigger = str(body.get("trigger_id") or "")
    return f"trigger {trigger}" if trigger else ""
