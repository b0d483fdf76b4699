"""The guided tour (D1): four short steps offered once to each principal on their first command.

Where a principal stands is kept per principal (a person on one platform and workspace): the
offer is a unique insert, so two first commands at once offer it once; skipping and finishing
are remembered. `tour` replays it whatever the state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.domain.model import Principal

STEPS = 4  # 1 what a target is; 2 run and status; 3 drafts and review; 4 notes from threads


class TourState(StrEnum):
    OFFERED = "offered"  # offered (or replayed), neither skipped nor finished yet
    SKIPPED = "skipped"
    FINISHED = "finished"


@dataclass(frozen=True)
class TourRecord:
    principal: Principal
    state: TourState
    offered_at: datetime
    updated_at: datetime


def step_number(text: str) -> int | None:
    """The step a tour button names ("1"…"4"), or None for anything else."""
    if len(text) != 1 or not (text.isascii() and text.isdigit()):
        return None
    step = int(text)
    return step if 1 <= step <= STEPS else None
