"""Grants and the audit log on every backend (tests/contract)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.domain.capabilities import Role
from core.domain.model import Grant, Principal
from core.ports import UnitOfWorkFactory
from tests.contract.seeds import audit_line

T0 = datetime(2026, 3, 2, 10, 0, 0, 123000, tzinfo=UTC)


async def test_grants_keep_workspaces_and_scopes_apart(uow_factory: UnitOfWorkFactory) -> None:
    u_in_t1, u_in_t2 = Principal("slack", "T1", "U1"), Principal("slack", "T2", "U1")
    async with uow_factory() as uow:
        await uow.grants.add(Grant(u_in_t1, Role.ADMIN, None, "configuration", T0))
        await uow.grants.add(Grant(u_in_t1, Role.OPERATOR, "demo", "console:alice", T0))
        await uow.grants.add(Grant(u_in_t2, Role.VIEWER, None, "console:alice", T0))
        await uow.commit()
    async with uow_factory() as uow:
        assert {(g.role, g.target) for g in await uow.grants.for_principal(u_in_t1)} == {
            (Role.ADMIN, None),
            (Role.OPERATOR, "demo"),
        }
        assert [g.role for g in await uow.grants.for_principal(u_in_t2)] == [Role.VIEWER]
        assert await uow.grants.find(u_in_t1, Role.OPERATOR, None) is None
        found = await uow.grants.find(u_in_t1, Role.ADMIN, None)
        assert found is not None and found.from_configuration
        assert await uow.grants.global_holders(Role.ADMIN) == [u_in_t1]
        assert await uow.grants.remove(u_in_t1, Role.OPERATOR, "demo")
        assert not await uow.grants.remove(u_in_t1, Role.OPERATOR, "demo")
        await uow.commit()
        assert len(await uow.grants.all()) == 2


async def test_the_audit_log_appends_and_reads_newest_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.audit.append(audit_line("run"))
        await uow.audit.append(audit_line("status", T0 + timedelta(seconds=1)))
        await uow.commit()
    async with uow_factory() as uow:
        entries = await uow.audit.recent(limit=5)
    assert [e.action for e in entries] == ["status", "run"]
    assert entries[1].at == T0 and entries[1].job_id == 3
    assert not hasattr(uow.audit, "delete") and not hasattr(uow.audit, "update")


async def test_every_grant_is_listed_by_principal_role_and_scope(
    uow_factory: UnitOfWorkFactory,
) -> None:
    zed, amy = Principal("slack", "T1", "UZED"), Principal("discord", "G1", "42")
    async with uow_factory() as uow:
        await uow.grants.add(Grant(zed, Role.VIEWER, None, "console:alice", T0))
        await uow.grants.add(Grant(zed, Role.ADMIN, None, "configuration", T0))
        await uow.grants.add(Grant(amy, Role.OPERATOR, "site-b", "console:alice", T0))
        await uow.grants.add(Grant(amy, Role.OPERATOR, "site-a", "console:alice", T0))
        await uow.grants.add(Grant(amy, Role.ADMIN, None, "console:alice", T0))
        await uow.commit()
    async with uow_factory() as uow:
        listed = [(g.principal, g.role, g.target) for g in await uow.grants.all()]
        assert listed == sorted(listed, key=lambda g: (g[0].key, g[1].value, g[2] or ""))
        assert [(g.role, g.target) for g in await uow.grants.for_principal(amy)] == [
            (Role.OPERATOR, "site-b"),
            (Role.OPERATOR, "site-a"),
            (Role.ADMIN, None),
        ]
        assert await uow.grants.global_holders(Role.ADMIN, for_change=True) == [amy, zed]
        assert await uow.grants.global_holders(Role.OPERATOR) == []
        assert await uow.grants.remove(zed, Role.ADMIN, None)
        assert await uow.grants.find(zed, Role.ADMIN, None) is None
        assert await uow.grants.global_holders(Role.ADMIN) == [amy]


async def test_audit_entries_written_in_one_batch_past_a_statement_batch_read_back_in_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """`append_many` is one executemany (SQLAlchemy sends 1,000 rows a statement)."""
    entries = [audit_line(f"a{n}", T0 + timedelta(milliseconds=n)) for n in range(2_500)]
    async with uow_factory() as uow:
        await uow.audit.append_many(entries[:1])
        await uow.audit.append_many(entries[1:])
        await uow.audit.append_many([])
        await uow.commit()
    async with uow_factory() as uow:
        everything = await uow.audit.recent(limit=10_000)
        assert [e.action for e in everything] == [f"a{n}" for n in range(2_499, -1, -1)]
        assert [e.action for e in await uow.audit.recent()] == [
            f"a{n}" for n in range(2_499, 2_479, -1)
        ]
        ids = [e.id for e in everything]
        assert None not in ids and len(set(ids)) == 2_500
