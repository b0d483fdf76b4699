"""Microsoft Teams (A2): Adaptive Cards with Universal Actions, through the Agents SDK."""

from adapters.teams.adapter import TeamsAdapter
from adapters.teams.profile import PROFILE

__all__ = ["PROFILE", "TeamsAdapter"]
