"""What a scenario may do in a chat, and see of it, whatever the platform.

A scenario speaks of people (`ALICE`, `CAROL`) and channels (`OPS`, `ALERTS`); each platform's
driver turns that into the requests the platform really sends (signed Slack payloads, Teams
activities, Discord interactions) against the whole bot, and reads what the bot sent back from
that platform's loopback stand-in. The platform's own shapes (ephemeral vs replaced, invoke
responses, redrawn cards) are checked inside the driver, where they belong; the scenario sees
only the outcome a person would: what was said, to whom, with which buttons.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.config import DEMO_SITE
from core.domain.model import Principal
from core.ports import UnitOfWorkFactory

# People, with the same rights and languages on every platform.
ALICE = "alice"  # admin, writes the drafts; reads English
CAROL = "carol"  # reviewer; reads French
NINA = "nina"  # new to exportbot: no role, has never said anything to the bot; reads English
PEOPLE = (ALICE, CAROL)

# Channels.
OPS = "ops"  # where commands are typed
ALERTS = "alerts"  # a channel that subscribes to alerts

# Targets every driver configures.
QUICK = {"name": "quick", "kind": "command", "command": ["true"]}
# An archive target over the bundled demo tree (node_modules/, a CACHEDIR.TAG cache, a video):
# `exclude` walks it; nothing here archives it.
SITE = {"name": "site", "kind": "archive", "source": str(DEMO_SITE)}
BROKEN = {
    "name": "broken",
    "kind": "command",
    "command": ["sh", "-c", "echo 'fatal: refused by the NAS' >&2; exit 2"],
}


@dataclass(frozen=True)
class Seen:
    """A message as its reader sees it: its words, its buttons, and whether only they see it."""

    text: str
    actions: tuple[str, ...] = ()
    private: bool = False
    message_id: str | None = None  # where a button press on it must point, when it matters
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


class Chat(Protocol):
    platform: str
    note_link: str  # a regular expression: the link a note from a thread keeps back to its reply

    async def say(self, person: str, text: str, *, channel: str = OPS) -> Seen:
        """Type a command; the bot's direct answer to it."""

    async def press(self, person: str, on: Seen, action: str, obj: str, version: int) -> Seen:
        """Press a button of `on`; what the presser sees afterwards."""

    async def follow_ups(self, person: str) -> list[Seen]:
        """What the bot said to `person` after its direct answer to their last command, as
        messages of their own (the guided tour's offer), oldest first; once the bot settled."""

    async def reply_in_job_thread(self, person: str, job_id: int, text: str) -> None:
        """Answer in the thread of job `job_id`'s message, mentioning the bot."""

    async def job_message(self, job_id: int) -> Seen:
        """Job `job_id`'s own message, as it reads now (after its last redraw)."""

    async def job_thread(self, job_id: int) -> list[Seen]:
        """What the bot said in that job's thread, oldest first."""

    async def redrawn_draft_card(self, draft_id: int, channel: str) -> Seen:
        """The card of draft `draft_id` the bot posted in `channel`, once redrawn after a
        decision taken elsewhere, as it reads then."""

    async def posted_in(self, channel: str) -> list[Seen]:
        """New top-level messages the bot posted in `channel`, oldest first."""

    async def first_post_now(self, channel: str) -> Seen:
        """The bot's first top-level message in `channel`, as it reads now (after its edits);
        its whole payload in `extra["raw"]` (links live in buttons on some platforms)."""

    async def file_in(self, channel: str) -> tuple[str, bytes] | None:
        """The file the bot posted in `channel` (its name and bytes); None if it posted none."""

    async def download(self, url: str) -> tuple[int, dict[str, str], bytes]:
        """GET one of the bot's own links (status, headers, body), as a browser would."""

    async def restart(self) -> None:
        """Stop the bot and start a new process on the same database."""

    async def settle(self) -> None:
        """Let jobs, background answers and the dispatcher finish what they started."""

    async def forge(self, forgery: str, text: str) -> int:
        """Send `text` as a command, unverifiable in the way `forgery` names; the status."""

    def sent_anything(self) -> bool:
        """Whether the bot has said anything at all on the platform."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Read the bot's database."""

    def principal(self, person: str) -> str:
        """`platform:workspace:user` of `person`."""

    def mention(self, person: str) -> str:
        """How `person` is @mentioned in what `say` types (the platform's own mention)."""


async def have_seen_the_tour(uow_factory: UnitOfWorkFactory, principals: list[str]) -> None:
    """Harness set-up: the people of the scenarios that are not about the tour (ALICE, CAROL)
    count as having had the tour offered, so its offer (D1) never follows their first command
    and each answer a scenario reads is the one it expects. NINA stays new."""
    async with uow_factory() as uow:
        for principal in principals:
            await uow.tours.offer(Principal.parse(principal), datetime.now(UTC))
        await uow.commit()


T = TypeVar("T")
WAIT = 5.0  # seconds a scenario waits for the bot to say something on its own


async def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """Poll `read` until `done` holds: the dispatcher and job listeners work on their own."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not done(seen := read()):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT} s; saw {seen!r}")
        await asyncio.sleep(0.05)
    return seen


def with_raw(seen: Seen, payload: Any) -> Seen:
    """`seen` with the payload it was read from, as JSON text, in `extra["raw"]`."""
    return replace(seen, extra={**seen.extra, "raw": json.dumps(payload)})


async def fetch(
    client: TestClient[web.Request, web.Application], url: str
) -> tuple[int, dict[str, str], bytes]:
    """GET the path and query of `url` from the bot under test (its public URL is elsewhere)."""
    parts = urlsplit(url)
    response = await client.get(f"{parts.path}?{parts.query}" if parts.query else parts.path)
    return response.status, dict(response.headers), await response.read()


class Harness(Protocol):
    async def settle(self) -> None: ...

    def rows(self, sql: str) -> list[tuple[Any, ...]]: ...


H = TypeVar("H", bound=Harness)


class HarnessedBot(Generic[H]):
    """A driver's bot: the platform's test harness, started, stopped and restarted on one
    database (what Slack's and Discord's drivers share)."""

    def __init__(self, open_harness: Callable[[], AbstractAsyncContextManager[H]]) -> None:
        self._open_harness = open_harness
        self._stack = AsyncExitStack()
        self._harness: H | None = None

    @property
    def harness(self) -> H:
        assert self._harness is not None
        return self._harness

    async def start(self) -> None:
        self._harness = await self._stack.enter_async_context(self._open_harness())

    async def stop(self) -> None:
        await self._stack.aclose()
        self._harness = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def settle(self) -> None:
        await self.harness.settle()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.harness.rows(sql)
