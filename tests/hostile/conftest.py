from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.adapters.slack_harness import SlackHarness, slack_harness
from tests.adapters.slack_standin import SlackStandIn, slack_standin


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    async with slack_standin() as running:
        yield running


@pytest.fixture
async def slack(tmp_path: Path, standin: SlackStandIn) -> AsyncIterator[SlackHarness]:
    async with slack_harness(tmp_path, standin) as harness:
        yield harness
