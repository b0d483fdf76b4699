"""One root error for the core; adapters map these to user replies at the edge.

Each error carries a catalog key and its parameters, so the reply is translated where it is
rendered, never here.
"""

from __future__ import annotations

from typing import Any


class ExportbotError(Exception):
    """Root of every error the core raises on purpose."""

    key = "error.internal"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(f"{self.key} {params}" if params else self.key)


class InvalidCommand(ExportbotError):
    """The text could not be parsed; params may hold a did-you-mean suggestion."""

    key = "error.invalid"


class PermissionDenied(ExportbotError):
    """The actor lacks a capability; `capability` names it."""

    key = "error.permission"


class NotFound(ExportbotError):
    """A job, target or grant named by the user does not exist."""

    key = "error.not_found"


class StaleAction(ExportbotError):
    """A button was pressed on an object that has changed since it was drawn."""

    key = "error.stale"


class Conflict(ExportbotError):
    """The request cannot be applied in the current state (busy target, finished job...)."""

    key = "error.conflict"


class AlreadyDone(ExportbotError):
    """The same request (a replay, a second press of the same button) was handled once."""

    key = "error.already_done"
