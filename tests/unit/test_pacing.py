"""The hard ceiling of the pacer: never more than `limit` sends in any window."""

from __future__ import annotations

import time

from core.pacing import SlidingWindow


async def test_a_sliding_window_never_lets_more_than_its_limit_into_any_window() -> None:
    window = SlidingWindow(3, 0.1)
    stamps = []
    for _ in range(9):
        await window.take()
        stamps.append(time.monotonic())
    # Any four consecutive sends span at least the window (a token bucket of burst 3 and
    # rate 30/s would let six through in the first 0.1 s).
    assert all(later - earlier >= 0.1 for earlier, later in zip(stamps, stamps[3:], strict=False))
    assert stamps[2] - stamps[0] < 0.05  # the first three go at once
