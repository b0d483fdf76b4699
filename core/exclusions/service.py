"""Runs `exclude <target>` previews in the background and shows them where they were asked.

The way `audit` exports show (core/exports/service.py): the handler answers at once; the walk
runs in a thread, off the event loop; a progress line is posted in the conversation, edited
at most once per `every` seconds ("Scanning site-a… 40,000 files"), then replaced by the
presets, each with what it would leave out and its button.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from core.domain.model import Actor
from core.exclusions.presets import presets
from core.exclusions.preview import (
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_SECONDS,
    PreviewResult,
    Progress,
    preview,
)
from core.exports.service import ChannelFor, show_safely
from core.i18n import Translator
from core.support.background import Background
from core.support.lifecycle import Lifecycle
from core.views.exclusions import failed_message, result_message, scanning_message

log = logging.getLogger(__name__)
PREVIEW = "an exclusion preview"  # as the log names what could not be shown

WALKERS = 2  # previews walking at once, whatever the number of targets


@dataclass(frozen=True)
class PreviewRequest:
    target: str
    source: str
    current: tuple[str, ...]  # what the target already leaves out (configured + scheduled)
    present: frozenset[str]  # presets whose entries are all there already
    over_mb: int
    prefix: str


class PreviewService(Lifecycle):
    """Starts previews (`start`, after the handler's commit) and runs them, bounded by
    `max_files` and `max_seconds`."""

    def __init__(
        self,
        channel_for: ChannelFor,
        *,
        every: float = 2.0,
        max_files: int = DEFAULT_MAX_FILES,
        max_seconds: float = DEFAULT_MAX_SECONDS,
    ) -> None:
        self._channel_for = channel_for
        self._every = every
        self._max_files = max_files
        self._max_seconds = max_seconds
        self._background = Background("exclude preview")
        # Walks run in threads of their own, made on first use: a long walk never holds the
        # loop's default executor, which other work shares. One walk per target at a time.
        self._pool: ThreadPoolExecutor | None = None
        self._running: set[str] = set()

    def busy(self, target: str) -> bool:
        """Whether a preview of `target` is under way (a second one is refused meanwhile)."""
        return target in self._running

    def reaches(self, actor: Actor) -> bool:
        return self._channel_for(actor) is not None

    def start(self, request: PreviewRequest, actor: Actor) -> asyncio.Task[PreviewResult | None]:
        self._running.add(request.target)
        task = self._background.keep(self.build(request, actor))
        task.add_done_callback(lambda _: self._running.discard(request.target))
        return task

    async def idle(self) -> None:
        await self._background.drain()

    async def _stop(self) -> None:
        await self._background.close()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def build(self, request: PreviewRequest, actor: Actor) -> PreviewResult | None:
        t = Translator(actor.locale)
        channel = self._channel_for(actor)
        table = presets(request.over_mb)
        progress = Progress()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(WALKERS, thread_name_prefix="exclude-preview")
        walk = asyncio.get_running_loop().run_in_executor(
            self._pool,
            partial(
                preview,
                request.source,
                table,
                request.current,
                max_files=self._max_files,
                max_seconds=self._max_seconds,
                progress=progress,
            ),
        )
        try:
            # No progress line for a scan done within the first interval: the answer, then the
            # result, is all a quick scan needs (a "0 files" line first only added noise, and
            # in the console came before the command's own answer).
            while not walk.done():
                await asyncio.wait({walk}, timeout=self._every)
                if not walk.done():
                    await show_safely(
                        channel, scanning_message(t, request.target, progress.files), PREVIEW
                    )
            result = walk.result()
        except asyncio.CancelledError:
            progress.stop.set()  # the thread ends at its next entry
            raise
        except Exception:
            log.exception("the exclusion preview of %s failed", request.target)
            await show_safely(channel, failed_message(t, request.target), PREVIEW)
            return None
        finally:
            progress.stop.set()
        message = result_message(
            t, request.target, table, result, request.present, request.over_mb, request.prefix
        )
        await show_safely(channel, message, PREVIEW)
        return result
