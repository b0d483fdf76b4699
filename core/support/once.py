"""Doing something once per key, remembering only the recent keys (a bounded set).

A job's end may be told by its listener and, for a card remembered after a quick job ended,
by the card's poster too; whichever comes second must do nothing. Old keys are forgotten so
a long-running bot does not keep every job id it has seen.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

RECENT = 10_000


class Once:
    def __init__(self, recent: int = RECENT) -> None:
        self._seen: OrderedDict[Hashable, None] = OrderedDict()
        self._recent = recent

    def first(self, key: Hashable) -> bool:
        """True the first time `key` is seen (among the recent ones), False after."""
        if key in self._seen:
            return False
        self._seen[key] = None
        if len(self._seen) > self._recent:
            self._seen.popitem(last=False)
        return True
