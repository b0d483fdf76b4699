"""How fast each destination may be sent to (PLATFORMS.md), shared by everything that posts
or edits proactively: alerts (core/delivery/dispatcher.py) and progress edits
(core/jobs/progress.py).

One token bucket per destination; a platform's "retry after" pauses that destination.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from core.delivery.sender_keys import SenderKey
from core.domain.subscriptions import Destination


@dataclass(frozen=True)
class Pace:
    """Messages per second a destination takes, and the burst it tolerates."""

    rate: float
    burst: int


# For a destination whose platform declares no pace; each adapter declares its own in its
# profile (core/app/platforms.py), which bot/bootstrap.py hands to the `Pacer`.
DEFAULT_PACE = Pace(1.0, 1)
ANSWER_SPACING = 0.95  # of an interval, counted from an answer (see `answered`)


class TokenBucket:
    def __init__(self, pace: Pace) -> None:
        self._pace = pace
        self._tokens = float(pace.burst)
        self._stamp = time.monotonic()
        self._paused_until = 0.0
        self._not_before = 0.0

    def _refill(self) -> float:
        now = time.monotonic()
        self._tokens = min(self._pace.burst, self._tokens + (now - self._stamp) * self._pace.rate)
        self._stamp = now
        return now

    def wait_needed(self) -> float:
        """Seconds until a message may go (0 when one may go now)."""
        now = self._refill()
        return max(
            self._paused_until - now,
            self._not_before - now,
            (1 - self._tokens) / self._pace.rate,
            0.0,
        )

    async def take(self) -> None:
        """Wait until a message may go, then spend it."""
        while (wait := self.wait_needed()) > 0:  # noqa: ASYNC110 - time, not an event
            await asyncio.sleep(wait)
        self._tokens -= 1

    def try_take(self) -> bool:
        """Spend a token if one is there now; for sends that may be skipped (progress)."""
        if self.wait_needed() > 0:
            return False
        self._tokens -= 1
        return True

    def answered(self) -> None:
        """The platform answered the last message, which arrived at the latest now. A
        destination taking one at a time gets the next no sooner than ANSWER_SPACING of an
        interval after this answer, so a slow answer (a busy loop, a slow network) never
        lets two messages arrive closer than the platform allows; a quick one costs nothing
        (the interval from the request is the longer)."""
        if self._pace.burst == 1:
            spacing = ANSWER_SPACING / self._pace.rate
            self._not_before = max(self._not_before, time.monotonic() + spacing)

    def pause(self, seconds: float) -> None:
        """The platform said "retry after": nothing goes to this destination until then."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)
        self._tokens = min(self._tokens, 0.0)


class SlidingWindow:
    """At most `limit` sends in any `per` seconds: a hard ceiling such as Discord's 50
    requests/s per bot. A token bucket would let its burst and its refill land in the same
    second (twice the limit, as a test found)."""

    def __init__(self, limit: int, per: float) -> None:
        self._limit = limit
        self._per = per
        self._sent: deque[float] = deque()

    async def take(self) -> None:
        while True:
            now = time.monotonic()
            while self._sent and self._sent[0] <= now - self._per:
                self._sent.popleft()
            if len(self._sent) < self._limit:
                self._sent.append(now)
                return
            await asyncio.sleep(self._sent[0] + self._per - now)


class Pacer:
    """The token buckets of every destination this process sends to."""

    def __init__(self, paces: Mapping[str, Pace] | None = None) -> None:
        """`paces` keyed `platform` or `platform:workspace` (`Platforms.paces()`); any other
        destination goes at `DEFAULT_PACE`."""
        self._paces = dict(paces or {})
        self._buckets: dict[Destination, TokenBucket] = {}

    def bucket(self, where: Destination) -> TokenBucket:
        bucket = self._buckets.get(where)
        if bucket is None:
            pace = self._paces.get(
                SenderKey.of(where), self._paces.get(where.platform, DEFAULT_PACE)
            )
            bucket = self._buckets[where] = TokenBucket(pace)
        return bucket
