"""The local terminal chat (A4): the same grammar and replies as plain text."""

from adapters.console.profile import PROFILE
from adapters.console.session import ConsoleSession

__all__ = ["PROFILE", "ConsoleSession"]
