"""discord.py's HTTP client, pointed at the configured API base: its per-route buckets and
429 handling, under our own ceiling on the 50 requests/s Discord allows a bot globally.

discord.py cannot serve interactions over HTTP (ARCHITECTURE.md), but its REST client is the
reference for Discord's rate limits (buckets announced in `X-RateLimit-*`, never hard-coded).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from typing import Any

import aiohttp
import discord
from discord.http import HTTPClient, Route

from core.delivery.pacing import SlidingWindow
from core.delivery.senders import MaybeDelivered, PermanentFailure, RetryAfter
from core.support.lifecycle import Lifecycle

GLOBAL_LIMIT = 45  # requests in any second: Discord allows 50; a margin for clocks and retries
LONGEST_WAIT = 30.0  # a 429 asking for more raises (the dispatcher waits, not this call)
MAX_NONCE = 25
UNKNOWN_CHANNEL = 10003  # Discord's error code


class DiscordRest(Lifecycle):
    def __init__(self, token: str, api_url: str) -> None:
        self._token = token
        self._api_url = api_url.rstrip("/")
        self._http: HTTPClient | None = None
        self._global = SlidingWindow(GLOBAL_LIMIT, 1.0)
        self.bot_user_id = ""

    async def _start(self) -> None:
        await self.start()

    async def _stop(self) -> None:
        await self.close()

    async def start(self) -> None:
        # Route.BASE is a class attribute: one Discord API per process, as configured.
        Route.BASE = self._api_url
        self._http = HTTPClient(asyncio.get_running_loop(), max_ratelimit_timeout=LONGEST_WAIT)
        me = await self._http.static_login(self._token)
        self.bot_user_id = str(me["id"])

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        files: list[discord.File] | None = None,
        route: Mapping[str, Any] | None = None,
    ) -> Any:
        """One API call to `path` (a template, `route` filling it); Discord's refusals as
        the delivery errors the dispatcher honours."""
        if self._http is None:
            raise PermanentFailure("Discord is not connected (no bot token)")
        await self._global.take()
        called = Route(method, path, **(route or {}))
        try:
            if files:  # multipart: the JSON as `payload_json`, then `files[n]`
                form: list[dict[str, Any]] = [
                    {"name": "payload_json", "value": discord.utils._to_json(json or {})}
                ]
                form += [
                    {
                        "name": f"files[{index}]",
                        "value": attached.fp,
                        "filename": attached.filename,
                        "content_type": "application/octet-stream",
                    }
                    for index, attached in enumerate(files)
                ]
                return await self._http.request(called, files=files, form=form)
            return await self._http.request(called, json=json)
        except discord.RateLimited as limited:
            raise RetryAfter(limited.retry_after, "Discord rate limit") from None
        except discord.NotFound as missing:
            unknown = missing.code == UNKNOWN_CHANNEL
            raise (UnknownChannel if unknown else PermanentFailure)(_detail(missing)) from None
        except discord.Forbidden as refused:
            raise PermanentFailure(_detail(refused)) from None
        except discord.DiscordServerError as failed:
            raise MaybeDelivered(_detail(failed)) from None
        except discord.HTTPException as failed:  # 400s: what we sent is wrong; a retry is too
            raise PermanentFailure(_detail(failed)) from None
        except (TimeoutError, aiohttp.ClientError) as error:
            detail = f"no answer from Discord ({type(error).__name__})"
            raise MaybeDelivered(detail) from None


def nonce(key: str) -> str:
    """A delivery key as a message nonce (≤ 25 characters): with `enforce_nonce`, Discord
    returns the message already created with it instead of posting it again."""
    return hashlib.sha256(key.encode()).hexdigest()[:MAX_NONCE]


def _detail(error: discord.HTTPException) -> str:
    return f"Discord answered {error.status} (code {error.code}): {error.text[:200]}"


class UnknownChannel(PermanentFailure):
    """Discord knows no such channel (code 10003): for a message's id, no thread yet."""
