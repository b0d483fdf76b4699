"""Subscriptions on SQLite and PostgreSQL: one per channel and target, found by target."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from core.domain.subscriptions import AlertKind, Destination, Severity, Subscription
from storage import SqlUnitOfWorkFactory

AT = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OPS = Destination("slack", "T1", "C0OPS")
DEV = Destination("slack", "T1", "C0DEV")


def _sub(where: Destination, target: str, *kinds: AlertKind) -> Subscription:
    return Subscription(where, target, frozenset(kinds), Severity.INFO, "slack:T1:U1", AT)


async def test_saving_again_replaces_and_target_lookups_include_every_target(
    uow_factory: SqlUnitOfWorkFactory,
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
