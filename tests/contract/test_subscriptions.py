"""Subscriptions on SQLite and PostgreSQL: one per channel and target, found by target."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from core.delivery.model import AlertThread
from core.delivery.senders import MessageRef
from core.delivery.webhooks import Webhook, WebhookFormat
from core.domain.subscriptions import AlertKind, Destination, Severity, Subscription
from core.ports import UnitOfWorkFactory

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OPS = Destination("slack", "T1", "C0OPS")
DEV = Destination("slack", "T1", "C0DEV")


def _sub(where: Destination, target: str, *kinds: AlertKind) -> Subscription:
    return Subscription(where, target, frozenset(kinds), Severity.INFO, "slack:T1:U1", AT)


async def test_saving_again_replaces_and_target_lookups_include_every_target(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        first = await uow.subscriptions.save(_sub(OPS, "demo", AlertKind.FAILED))
        again = await uow.subscriptions.save(
            replace(
                _sub(OPS, "demo", AlertKind.QUOTA, AlertKind.FAILED), min_severity=Severity.WARNING
            )
        )
        await uow.subscriptions.save(_sub(DEV, "*", AlertKind.MISSED))
        await uow.subscriptions.save(_sub(DEV, "other", AlertKind.FAILED))
        await uow.commit()
    assert first.id == again.id
    async with uow_factory() as uow:
        found = await uow.subscriptions.get(OPS, "demo")
        assert found is not None
        assert found.kinds == {AlertKind.FAILED, AlertKind.QUOTA}
        assert found.min_severity is Severity.WARNING and found.updated_at == AT
        assert sorted(
            s.destination.channel for s in await uow.subscriptions.for_target("demo")
        ) == [
            "C0DEV",
            "C0OPS",
        ]
        assert [s.target for s in await uow.subscriptions.for_destination(DEV)] == ["*", "other"]
        assert await uow.subscriptions.remove(DEV, "*")
        assert not await uow.subscriptions.remove(DEV, "*")
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.target for s in await uow.subscriptions.for_destination(DEV)] == ["other"]


async def test_subscriptions_are_found_by_platform_and_ids_are_never_shared(
    uow_factory: UnitOfWorkFactory,
) -> None:
    hook = Destination("webhook", "", "1")
    async with uow_factory() as uow:
        first = await uow.subscriptions.save(_sub(OPS, "demo", AlertKind.FAILED))
        second = await uow.subscriptions.save(_sub(hook, "*", AlertKind.FAILED))
        third = await uow.subscriptions.save(_sub(DEV, "demo", AlertKind.FAILED))
        assert await uow.subscriptions.remove(OPS, "demo")
        fourth = await uow.subscriptions.save(_sub(OPS, "site", AlertKind.MISSED))
        await uow.commit()
    ids = [s.id for s in (second, third, fourth)]
    assert None not in ids and len(set(ids)) == 3 and first.id is not None
    async with uow_factory() as uow:
        assert [s.destination for s in await uow.subscriptions.for_platform("slack")] == [DEV, OPS]
        assert [s.target for s in await uow.subscriptions.for_platform("webhook")] == ["*"]
        assert await uow.subscriptions.for_platform("teams") == []
        assert await uow.subscriptions.get(OPS, "demo") is None
        assert await uow.subscriptions.for_destination(Destination("slack", "T2", "C0OPS")) == []


async def test_an_alert_thread_is_kept_per_destination_target_and_kind(
    uow_factory: UnitOfWorkFactory,
) -> None:
    head = MessageRef("C0OPS", "1700.1")
    async with uow_factory() as uow:
        assert await uow.alert_threads.get(OPS, "demo", "failed") is None
        await uow.alert_threads.save(AlertThread(OPS, "demo", "failed", 1, head, 1, AT))
        in_a_thread = MessageRef("C0DEV", "1700.2", thread_id="1700.0")
        await uow.alert_threads.save(AlertThread(DEV, "demo", "failed", 2, in_a_thread, 1, AT))
        await uow.commit()
    async with uow_factory() as uow:
        thread = await uow.alert_threads.get(OPS, "demo", "failed")
        assert thread == AlertThread(OPS, "demo", "failed", 1, head, 1, AT)
        later = AT + timedelta(minutes=5)
        await uow.alert_threads.save(AlertThread(OPS, "demo", "failed", 1, head, 4, later))
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.alert_threads.get(OPS, "demo", "failed")
        assert again is not None and (again.count, again.last_at) == (4, later)
        assert await uow.alert_threads.get(OPS, "demo", "missed") is None
        assert await uow.alert_threads.get(OPS, "site", "failed") is None
        other = await uow.alert_threads.get(DEV, "demo", "failed")
        assert other is not None and other.event_id == 2
        assert other.head == MessageRef("C0DEV", "1700.2")  # a head is kept as a top message


async def test_a_webhook_url_is_stored_once(uow_factory: UnitOfWorkFactory) -> None:
    url = "https://hooks.example.com/services/T1/B1/secret"
    async with uow_factory() as uow:
        first = await uow.webhooks.add(Webhook(WebhookFormat.SLACK, url, "slack:T1:U1", AT))
        again = await uow.webhooks.add(Webhook(WebhookFormat.JSON, url, "slack:T1:U2", AT))
        other = await uow.webhooks.add(Webhook(WebhookFormat.JSON, url + "x", "slack:T1:U2", AT))
        await uow.commit()
    assert first.id is not None and other.id is not None
    assert again == first and other.id != first.id
    async with uow_factory() as uow:
        assert await uow.webhooks.get(first.id) == first
        assert await uow.webhooks.by_url(url + "x") == other
        assert await uow.webhooks.by_url(url + "y") is None
        assert await uow.webhooks.get(max(first.id, other.id) + 1) is None
