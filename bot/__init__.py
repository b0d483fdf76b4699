"""Composition root: configuration, CLI, the aiohttp application, workers and wiring."""
