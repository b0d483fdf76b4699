"""Microsoft Teams (A2): Adaptive Cards with Universal Actions, through the Agents SDK."""
