"""The job-event API's keys, reported runs and provisioned targets on the fakes, SQLite and
PostgreSQL (#16)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from core.api.keys import ApiKey
from core.api.runs import ProvisionedTarget, ReportedRun
from core.domain.model import NewJob, Origin, OriginKind
from core.ports import UnitOfWorkFactory

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def _key(name: str, *targets: str) -> ApiKey:
    return ApiKey(name, "n" * 32, "f" * 64, T0, "cli", targets=targets, may_create=bool(targets))


async def test_a_key_is_kept_without_secret_touched_and_revoked_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        assert await uow.api_keys.add(_key("cron", "db", "site"))
        assert await uow.api_keys.add(_key("ci"))
        assert not await uow.api_keys.add(_key("cron"))  # names are never reused
        await uow.commit()
    async with uow_factory() as uow:
        await uow.api_keys.touch("cron", T0 + timedelta(minutes=1))
        assert await uow.api_keys.revoke("ci", T0 + timedelta(minutes=2))
        assert not await uow.api_keys.revoke("ci", T0 + timedelta(minutes=3))
        assert not await uow.api_keys.revoke("nobody", T0)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        cron = await uow.api_keys.get("cron")
        assert cron == replace(_key("cron", "db", "site"), last_used_at=T0 + timedelta(minutes=1))
        assert [k.name for k in await uow.api_keys.all()] == ["ci", "cron"]
        ci = await uow.api_keys.get("ci")
        assert ci is not None and ci.revoked_at == T0 + timedelta(minutes=2) and ci.revoked
        assert await uow.api_keys.get("nobody") is None


async def test_a_reported_run_is_found_by_target_and_rid_and_keeps_its_progress(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        job = await uow.jobs.add(
            NewJob("db", Origin(OriginKind.API, "api", reference="cron"), None, "cron", T0)
        )
        run = ReportedRun("db", "r-1", job.id, "cron", "host-a", "pg_dump app")
        assert await uow.reported_runs.add(run)
        assert not await uow.reported_runs.add(replace(run, host="other"))
        await uow.commit()
    async with uow_factory() as uow:
        moved = replace(
            run, bytes_done=5_000_000_000, files_done=3, percent=42.5, log_tail="ok\n",
            updated_at=T0 + timedelta(seconds=5), host="ignored",
        )  # fmt: skip
        await uow.reported_runs.save(moved)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        found = await uow.reported_runs.get("db", "r-1")
        assert found == replace(moved, host="host-a")  # host and command are set once
        assert await uow.reported_runs.for_job(job.id) == found
        assert await uow.reported_runs.get("site", "r-1") is None
        assert await uow.reported_runs.for_job(job.id + 1) is None


async def test_a_provisioned_target_is_added_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.provisioned_targets.add(ProvisionedTarget("nas", "cron", T0))
        assert await uow.provisioned_targets.add(ProvisionedTarget("laptop", "ci", T0))
        assert not await uow.provisioned_targets.add(ProvisionedTarget("nas", "ci", T0))
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        assert await uow.provisioned_targets.all() == [
            ProvisionedTarget("laptop", "ci", T0),
            ProvisionedTarget("nas", "cron", T0),
        ]
