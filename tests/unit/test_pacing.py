"""The hard ceiling of the pacer: never more than `limit` sends in any window."""

from __future__ import annotations

import time

import pytest

from core.delivery.pacing import SlidingWindow
from core.delivery.senders import RetryAfter, retry_after_seconds


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


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("7", 7.0), ("2.5", 2.5), ("²", 1.0), ("inf", 1.0), ("nan", 1.0), ("", 1.0), (None, 1.0),
     ("1e308", 3600.0), ("-3", 0.0), ("9" * 5000, 1.0), (1e400, 1.0)],
)  # fmt: skip
def test_a_retry_after_is_a_finite_wait_of_at_most_an_hour(raw: object, seconds: float) -> None:
    assert retry_after_seconds(raw) == seconds
    assert RetryAfter(float("inf")).seconds == 1.0  # whatever a client library hands over
