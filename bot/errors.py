"""Errors the command line reports in one line each, with their own exit status."""

from __future__ import annotations


class PlatformUnavailable(Exception):
    """A platform's API refused the bot or could not be reached while it started."""
