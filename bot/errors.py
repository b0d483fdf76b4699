"""Errors the command line reports in one line each, with their own exit status."""

from __future__ import annotations


class PlatformUnavailable(Exception):
    """A platform's API refused the bot or could not be reached while it started."""


class OutputUnwritable(Exception):
    """The file named by `--out` cannot be written (a missing folder, no permission, a full
    disk): named as such, not mistaken for the database."""
