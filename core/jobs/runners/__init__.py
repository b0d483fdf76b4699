"""Runners do the work of a job, in a worker thread, off the event loop."""

from core.jobs.runners.base import (
    CancelToken,
    Progress,
    ProgressCallback,
    RunCancelled,
    RunFailed,
    Runner,
    RunResult,
)

__all__ = [
    "CancelToken",
    "Progress",
    "ProgressCallback",
    "RunCancelled",
    "RunFailed",
    "RunResult",
    "Runner",
]
