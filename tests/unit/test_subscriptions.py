"""Subscriptions (C1): who may subscribe, merging kinds, unsubscribing, and classification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.app.service import CommandService
from core.domain.events import EventKind, OutboxEvent
from core.domain.subscriptions import (
    AlertKind,
    Destination,
    Severity,
    Subscription,
    classify,
    parse_kinds,
)
from core.errors import InvalidCommand
from tests.fakes import FakeStore
from tests.unit.conftest import console, slack

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_kinds_are_read_from_commas_or_spaces_and_all_means_every_kind() -> None:
    assert parse_kinds("failed, quota") == {AlertKind.FAILED, AlertKind.QUOTA}
    assert parse_kinds("all") == frozenset(AlertKind)
    with pytest.raises(InvalidCommand) as bad:
        parse_kinds("failed,faild2")
    assert bad.value.key == "error.bad_alert_kind" and bad.value.params["value"] == "faild2"
    assert bad.value.params["closest"] == "failed"


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        (EventKind.JOB_ENDED, {"state": "failed"}, (AlertKind.FAILED, Severity.CRITICAL)),
        (EventKind.JOB_ENDED, {"state": "interrupted"}, (AlertKind.INTERRUPTED, Severity.WARNING)),
        (EventKind.JOB_ENDED, {"state": "cancelled"}, None),
        (
            EventKind.JOB_ENDED,
            {"state": "succeeded", "origin": "auto_resume"},
            (AlertKind.RESUMED, Severity.INFO),
        ),
        (EventKind.QUOTA_THRESHOLD, {"threshold": 90}, (AlertKind.QUOTA, Severity.WARNING)),
        (EventKind.QUOTA_THRESHOLD, {"threshold": 100}, (AlertKind.QUOTA, Severity.CRITICAL)),
        (EventKind.DRAFT_SUBMITTED, {}, (AlertKind.REVIEW, Severity.INFO)),
        (EventKind.DRAFT_EXPIRED, {}, (AlertKind.DECIDED, Severity.INFO)),
        (EventKind.RUN_MISSED, {}, (AlertKind.MISSED, Severity.WARNING)),
    ],
)
def test_each_outbox_event_is_classified(
    kind: EventKind, payload: dict[str, object], expected: object
) -> None:
    assert classify(OutboxEvent(kind, "demo", AT, payload)) == expected


def test_a_subscription_wants_its_target_kinds_and_severities() -> None:
    where = Destination("slack", "T1", "C1")
    sub = Subscription(where, "demo", frozenset({AlertKind.FAILED}), Severity.WARNING, "a", AT)
    assert sub.wants("demo", AlertKind.FAILED, Severity.CRITICAL)
    assert not sub.wants("other", AlertKind.FAILED, Severity.CRITICAL)
    assert not sub.wants("demo", AlertKind.QUOTA, Severity.CRITICAL)
    every = Subscription(where, "*", frozenset(AlertKind), Severity.CRITICAL, "a", AT)
    assert every.wants("other", AlertKind.QUOTA, Severity.CRITICAL)
    assert not every.wants("other", AlertKind.QUOTA, Severity.WARNING)


async def test_an_admin_subscribes_a_channel_and_kinds_add_up(
    service: CommandService, store: FakeStore
) -> None:
    reply = await service.execute_text("subscribe demo failed", console("alice"))
    assert "receives job failed alerts for demo, info and above" in reply.text
    reply = await service.execute_text(
        "subscribe demo interrupted --min-severity warning", console("alice")
    )
    assert "job failed, job interrupted alerts for demo, warning and above" in reply.text
    [sub] = store.state.subscriptions.values()
    assert sub.destination == Destination("console", "", "console")
    listed = await service.execute_text("subscriptions", console("bob"))
    assert "demo: job failed, job interrupted (warning and above)" in listed.text


async def test_subscribing_needs_manage_exports_and_a_real_target(
    service: CommandService, store: FakeStore
) -> None:
    refused = await service.execute_text("subscribe demo failed", console("bob"))
    assert "“manage exports” capability on demo" in refused.text
    every = await service.execute_text("subscribe * all", console("bob"))
    assert "“manage exports” capability" in every.text
    unknown = await service.execute_text("subscribe nowhere failed", console("alice"))
    assert "There is no target “nowhere”" in unknown.text
    bad_kind = await service.execute_text("subscribe demo explosions", console("alice"))
    assert "“explosions” is not an alert kind" in bad_kind.text
    assert "help" in bad_kind.text
    assert store.state.subscriptions == {}


async def test_unsubscribing_removes_kinds_then_the_subscription(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("subscribe * failed,quota", console("alice"))
    partly = await service.execute_text("unsubscribe * quota", console("alice"))
    assert "job failed alerts for every target" in partly.text
    gone = await service.execute_text("unsubscribe *", console("alice"))
    assert "no longer receives alerts for every target" in gone.text
    again = await service.execute_text("unsubscribe *", console("alice"))
    assert "has no subscription for every target" in again.text
    assert store.state.subscriptions == {}


async def test_channels_and_workspaces_have_their_own_subscriptions(
    service: CommandService, store: FakeStore
) -> None:
    await service.execute_text("role grant slack:T1:U1 admin", console("alice"))
    await service.execute_text("subscribe demo failed", slack("T1", "U1"))
    await service.execute_text("subscribe demo quota", console("alice"))
    listed = await service.execute_text("subscriptions", slack("T1", "U1"))
    assert "demo: job failed" in listed.text and "quota" not in listed.text
    assert {d.platform for d, _ in store.state.subscriptions} == {"slack", "console"}


def test_a_review_card_is_not_posted_again_where_it_was_submitted() -> None:
    from core.delivery.fanout import deliveries_for

    at = datetime(2026, 3, 2, tzinfo=UTC)
    here = Destination("slack", "T1", "COPS")
    review = Destination("slack", "T1", "CREVIEW")
    event = OutboxEvent(
        EventKind.DRAFT_SUBMITTED, "demo", at, {"draft": 1, "shown_in": here.key}, id=7
    )
    found = deliveries_for(event, [here, review, here], at, chat_platforms={"slack"})
    assert [d.destination for d in found] == [review]
    unmarked = OutboxEvent(EventKind.DRAFT_SUBMITTED, "demo", at, {"draft": 1}, id=8)
    assert len(deliveries_for(unmarked, [here, review], at, chat_platforms={"slack"})) == 2
