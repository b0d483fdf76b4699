"""The guided tour (D1) on the fakes: offered once after a newcomer's first answer, four
steps with Next / Skip, `tour` replays it, a skip or a finish is remembered, and a tour
button we never drew is refused."""

from __future__ import annotations

import asyncio

import pytest

from bot.bootstrap import PLATFORMS
from core.app.service import CommandService
from core.clock import FrozenClock
from core.commands.actions import TOUR_DONE, TOUR_NEXT, TOUR_SKIP, Press
from core.domain.tour import TourState
from core.views.message import Message
from tests.fakes import FakeStore
from tests.unit.conftest import TARGETS, RecordingJobControl, console, press, slack


@pytest.fixture
def touring(store: FakeStore, clock: FrozenClock, jobs: RecordingJobControl) -> CommandService:
    """The service as the composition root wires it: with the tour's offer."""
    return CommandService(
        store.uow,
        TARGETS,
        clock,
        jobs,
        platforms=PLATFORMS,
        workspaces={"slack:T1"},
        tour_offers=True,
    )


def buttons(message: Message) -> list[tuple[str, str]]:
    return [(a.name, a.object_id) for a in message.actions]


async def test_a_first_command_is_answered_then_followed_by_the_offer(
    touring: CommandService, store: FakeStore
) -> None:
    answer = await touring.execute_text("help", console("bob"))
    assert answer.title == "exportbot commands"  # answered normally
    offer = answer.follow_up
    assert offer is not None
    assert offer.title == "New to exportbot?"
    assert "tour" in offer.text and "4-step" in offer.text
    assert buttons(offer) == [(TOUR_NEXT, "1"), (TOUR_SKIP, "1")]
    again = await touring.execute_text("status", console("bob"))
    assert again.follow_up is None  # once per principal
    record = store.state.tours[console("bob").principal]
    assert record.state is TourState.OFFERED


async def test_the_offer_is_per_principal_and_not_after_a_refusal(
    touring: CommandService,
) -> None:
    refused = await touring.execute_text("rnu demo", console("bob"))
    assert refused.error_key and refused.follow_up is None
    stranger = await touring.execute_text("help", slack("T9", "U1"))  # a workspace not served
    assert stranger.follow_up is None
    assert (await touring.execute_text("help", slack("T1", "U1"))).follow_up is not None
    assert (await touring.execute_text("help", console("bob"))).follow_up is not None
    assert (await touring.execute_text("help", console("carol"))).follow_up is not None


async def test_without_the_offer_wired_nothing_follows(service: CommandService) -> None:
    assert (await service.execute_text("help", console("bob"))).follow_up is None


async def test_next_walks_through_four_steps_with_the_prefix(
    touring: CommandService, store: FakeStore
) -> None:
    bob = console("bob")
    offer = (await touring.execute_text("help", bob, prefix="/export ")).follow_up
    assert offer is not None
    titles = []
    pressed = offer.actions[0].press
    for step in range(1, 5):
        message = await touring.execute_action(pressed, bob, prefix="/export ")
        assert message.error_key == "", message.text
        assert message.status == f"step {step} of 4"
        titles.append(message.title)
        pressed = message.actions[0].press
        if step < 4:
            assert buttons(message) == [(TOUR_NEXT, str(step + 1)), (TOUR_SKIP, str(step))]
        else:
            assert buttons(message) == [(TOUR_DONE, "4")]
        assert message.follow_up is None
    assert titles == [
        "Tour: what a target is",
        "Tour: run and status",
        "Tour: drafts and review",
        "Tour: notes from threads",
    ]
    step2 = await touring.execute_action(Press(TOUR_NEXT, "2", 0), bob, prefix="/export ")
    assert "/export run demo" in step2.text and "/export status demo" in step2.text
    done = await touring.execute_action(pressed, bob, prefix="/export ")
    assert done.title == "Tour finished"
    assert store.state.tours[bob.principal].state is TourState.FINISHED


async def test_skip_is_remembered_and_tour_replays(
    touring: CommandService, store: FakeStore
) -> None:
    dave = console("dave")
    offer = (await touring.execute_text("status", dave)).follow_up
    assert offer is not None
    skipped = await touring.execute_action(offer.actions[1].press, dave)
    assert skipped.title == "Tour skipped" and "tour" in skipped.text
    assert store.state.tours[dave.principal].state is TourState.SKIPPED
    assert (await touring.execute_text("help", dave)).follow_up is None
    # A new process (no memory of who was offered) asks the store: still no offer.
    fresh = CommandService(
        store.uow,
        TARGETS,
        FrozenClock(),
        RecordingJobControl(),
        platforms=PLATFORMS,
        tour_offers=True,
    )
    assert (await fresh.execute_text("help", dave)).follow_up is None
    replay = await fresh.execute_text("tour", dave)
    assert replay.title == "Tour: what a target is" and replay.follow_up is None
    assert buttons(replay) == [(TOUR_NEXT, "2"), (TOUR_SKIP, "1")]


async def test_tour_typed_first_counts_as_the_offer(touring: CommandService) -> None:
    erin = console("erin", "fr")
    first = await touring.execute_text("tour", erin)
    # French puts a narrow no-break space before the colon (core/i18n/typography.py).
    assert first.title == "Visite\u202f: ce qu'est une cible" and first.follow_up is None
    assert first.status == "étape 1 sur 4"
    assert (await touring.execute_text("help", erin)).follow_up is None


async def test_anyone_may_take_the_tour_even_without_a_role(touring: CommandService) -> None:
    nobody = console("zed")
    message = await touring.execute_text("tour", nobody)
    assert message.error_key == "" and message.actions
    assert (await touring.execute_action(Press(TOUR_SKIP, "3", 0), nobody)).error_key == ""


@pytest.mark.parametrize(
    ("name", "value"),
    [
        (TOUR_NEXT, "0:0"),
        (TOUR_NEXT, "5:0"),
        (TOUR_NEXT, "-1:0"),
        (TOUR_NEXT, "１:0"),  # a full-width digit is no step we drew
        (TOUR_SKIP, "x:0"),
        (TOUR_DONE, ":0"),
        ("tour.jump", "2:0"),
        (TOUR_NEXT, "2"),
        (TOUR_NEXT, "2:\x00"),
    ],
)
async def test_a_tour_button_we_never_drew_is_refused_and_changes_nothing(
    touring: CommandService, store: FakeStore, name: str, value: str
) -> None:
    message = await press(touring, name, value, console("bob"))
    assert message.error_key == "error.bad_button"
    assert message.ephemeral
    assert console("bob").principal not in store.state.tours


async def test_a_tour_button_pressed_twice_on_one_message_acts_once(
    touring: CommandService,
) -> None:
    bob = console("bob")
    first = await touring.execute_action(Press(TOUR_NEXT, "2", 0), bob, message="C1:42")
    again = await touring.execute_action(Press(TOUR_NEXT, "2", 0), bob, message="C1:42")
    assert first.title == "Tour: run and status"
    assert again.error_key == "error.already_done"


async def test_two_first_commands_at_once_offer_the_tour_once(touring: CommandService) -> None:
    answers = await asyncio.gather(
        *(touring.execute_text("help", console("bob")) for _ in range(5))
    )
    assert sum(a.follow_up is not None for a in answers) == 1
