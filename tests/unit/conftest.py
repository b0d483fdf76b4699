from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.commands.actions import Press
from core.domain.capabilities import Role
from core.domain.model import CONFIG_GRANTOR, Actor, Grant, Principal, TargetKind, TargetSpec
from core.jobs.runners.base import Progress
from core.views.message import Message
from tests.fakes import FakeStore

TARGETS = {
    "demo": TargetSpec("demo", TargetKind.ARCHIVE, source="/srv/demo", archive_dir="/tmp/a"),
    "site-a": TargetSpec(
        "site-a", TargetKind.ARCHIVE, source="/srv/a", archive_dir="/tmp/b", approvals_required=2
    ),
}


async def press(
    service: CommandService, name: str, value: str, actor: Actor, *, comment: str = ""
) -> Message:
    """A button press as an adapter's codec hands it over: read once into a `Press`, and
    refused when the value is no press at all."""
    decoded = Press.of(name, value, comment)
    if decoded is None:
        return await service.refuse_action(name, value, actor)
    return await service.execute_action(decoded, actor)


def console(name: str, locale: str = "en") -> Actor:
    return Actor(Principal("console", "", name), name, locale, channel="console")


def slack(team: str, user: str) -> Actor:
    return Actor(Principal("slack", team, user), user, "en", channel="C1")


class RecordingJobControl:
    """Stands in for the executor: records what handlers asked for after their commit."""

    def __init__(self) -> None:
        self.launched: list[int] = []
        self.cancelled: list[int] = []
        self.progress: dict[int, Progress] = {}  # what a running job's runner reported

    def launch(self, job_id: int) -> None:
        self.launched.append(job_id)

    def request_cancel(self, job_id: int) -> bool:
        self.cancelled.append(job_id)
        return True

    def progress_of(self, job_id: int) -> Progress | None:
        return self.progress.get(job_id)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
def store(clock: FrozenClock) -> FakeStore:
    store = FakeStore()
    at = clock.now()
    for name, role in {
        "alice": Role.ADMIN,
        "bob": Role.OPERATOR,
        "carol": Role.REVIEWER,
        "dave": Role.SUPPORT,
        "erin": Role.REVIEWER,
    }.items():
        store.state.grants.append(
            Grant(Principal("console", "", name), role, None, CONFIG_GRANTOR, at)
        )
    return store


@pytest.fixture
def jobs() -> RecordingJobControl:
    return RecordingJobControl()


@pytest.fixture
def service(store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl) -> CommandService:
    return CommandService(
        store.uow, TARGETS, clock, jobs, platforms=PLATFORMS, workspaces={"slack:T1"}
    )


def grantless_service(store: FakeStore, now: datetime) -> CommandService:
    """A service on `store` with no grants and a clock stopped at `now`: the hostile verb
    doors give it any arguments (a fixture would be shared by every generated example)."""
    return CommandService(
        store.uow, TARGETS, FrozenClock(now), RecordingJobControl(), platforms=PLATFORMS
    )
