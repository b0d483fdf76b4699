"""The context a log line carries as fields (H4): which job, target, platform, workspace and
request it is about.

A `contextvars` variable, not a logger adapter: it follows the work across `await`s, into the
tasks it creates (they copy the context) and into `asyncio.to_thread` (a runner's thread), and
two concurrent requests or jobs each see their own. `bot/logs.py` reads it in a logging filter,
so every library's lines get the fields too. The core binds it; it knows nothing of logging
formats.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import Context, ContextVar, copy_context
from types import MappingProxyType

FIELDS = ("request_id", "platform", "workspace", "job_id", "target")

_EMPTY: Mapping[str, str | int] = MappingProxyType({})
_context: ContextVar[Mapping[str, str | int]] = ContextVar("exportbot_log_context", default=_EMPTY)


def current() -> Mapping[str, str | int]:
    """The fields bound here (empty values are never bound)."""
    return _context.get()


@contextmanager
def log_context(**fields: str | int | None) -> Iterator[None]:
    """Bind `fields` (one of `FIELDS`) for the block; the previous context comes back after
    it, also on error, so nothing leaks into the next request served by the same task."""
    token = _context.set(_merged(fields))
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: str | int | None) -> None:
    """Bind `fields` until the current task ends (a task has its own copy of the context, so
    the task that created it does not see them)."""
    _context.set(_merged(fields))


def detached() -> Context:
    """A copy of the current context without these fields, for a task that is not the
    current work's (a job launched by a request logs as the job, not as the request)."""
    context = copy_context()
    context.run(_context.set, _EMPTY)
    return context


def _merged(fields: Mapping[str, str | int | None]) -> Mapping[str, str | int]:
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"not a log context field: {', '.join(sorted(unknown))}")
    kept = {name: value for name, value in fields.items() if value is not None and value != ""}
    if not kept:
        return _context.get()
    return MappingProxyType({**_context.get(), **kept})
