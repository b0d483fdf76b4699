"""What the core tells the operator's metrics (H4), as a port: the core counts, the bot layer
turns the counts into Prometheus metrics (bot/metrics.py). The core imports no metrics library.

Labels stay few and bounded: a verb, a platform, a target, a state, an outcome. Never a user,
a channel or a job id (each would make a new time series).
"""

from __future__ import annotations

from typing import Protocol


class Telemetry(Protocol):
    def command_handled(self, verb: str, platform: str, outcome: str) -> None:
        """A command (or a button press) was answered: `outcome` is ok, refused, invalid or
        error, as its audit line says."""

    def acked(self, platform: str, seconds: float) -> None:
        """A platform's request was answered (its ack, or the HTTP response) `seconds` after
        it arrived."""

    def job_ended(
        self, target: str, state: str, seconds: float | None, size_bytes: int | None
    ) -> None:
        """A job reached its final `state`; its run time and archive size when known."""

    def delivered(self, platform: str, seconds: float) -> None:
        """An alert or private message reached `platform`, `seconds` after its event."""

    def rate_limited(self, platform: str) -> None:
        """`platform` answered a delivery with "too many requests" (HTTP 429)."""

    def dead_letter(self, platform: str) -> None:
        """A delivery to `platform` was given up on (the dead letters)."""

    def scheduler_leader(self, leading: bool) -> None:
        """This process took (True) or lost (False) the scheduler's leadership."""


class NoTelemetry(Telemetry):
    """The default: counts nothing (the console, tests of the core)."""

    def command_handled(self, verb: str, platform: str, outcome: str) -> None:
        pass

    def acked(self, platform: str, seconds: float) -> None:
        pass

    def job_ended(
        self, target: str, state: str, seconds: float | None, size_bytes: int | None
    ) -> None:
        pass

    def delivered(self, platform: str, seconds: float) -> None:
        pass

    def rate_limited(self, platform: str) -> None:
        pass

    def dead_letter(self, platform: str) -> None:
        pass

    def scheduler_leader(self, leading: bool) -> None:
        pass


NO_TELEMETRY = NoTelemetry()
