"""Alerts on their way out (C1, C3): outbox fan-out, the dispatcher, pacing, webhooks."""
