"""Slack (A1): Block Kit rendering now; the Bolt app, routes and sender come with issue #4."""
