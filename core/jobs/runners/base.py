"""The runner contract shared by the archive runner, the command runner and test fakes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class CancelToken:
    """Set from the event loop, polled by the worker thread between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)


@dataclass(frozen=True)
class Progress:
    """How far a run is. `bytes_total` is known only at the end (the tree is walked once)."""

    files_done: int
    bytes_done: int
    bytes_total: int | None = None


@dataclass(frozen=True)
class RunResult:
    file_count: int | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    archive_path: str | None = None
    output_tail: str = ""


class RunFailed(Exception):
    """The run failed; `detail` is shown to users (already trimmed, e.g. last stderr lines)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RunCancelled(Exception):
    """The run stopped because its token was cancelled; nothing was left behind."""


ProgressCallback = Callable[[Progress], None]


class Runner(Protocol):
    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        """Do the work synchronously (called in a thread). Raise RunFailed or RunCancelled."""
        ...


class ReportedElsewhere:
    """The runner of a `reported` target: an outside tool runs it, so a job that reached the
    executor anyway (a schedule fired) fails, saying why, rather than export nothing."""

    def __init__(self, target: str) -> None:
        self._target = target

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        raise RunFailed(
            f"{self._target} is a reported target: an outside tool runs it and reports to the API"
        )
