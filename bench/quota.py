"""Cost of one quota update with 1,000, 10,000 and 100,000 archives recorded (B4).

Usage is a counter adjusted in the transaction that records the archive, so the cost must not
grow with the number of archives. Each measurement is one archive written: record the archive,
adjust the counter, check the thresholds, commit — on SQLite in a temporary file.

    python bench/quota.py [--updates 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from core.domain.model import QuotaPolicy
from core.domain.quotas import adjust_usage
from core.domain.schedules import ArchiveRecord
from storage import SqlUnitOfWorkFactory, open_engine, upgrade
from storage.tables import ArchiveRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = QuotaPolicy(limit_bytes=10**15)


async def measure(recorded: int, updates: int, folder: Path) -> list[float]:
    async with open_engine(f"sqlite+aiosqlite:///{folder / f'quota-{recorded}.db'}") as engine:
        await upgrade(engine)
        async with engine.begin() as connection:
            rows = [
                {
                    "job_id": i,
                    "target": "demo",
                    "path": f"/a/{i}.tar.gz",
                    "size_bytes": 1000,
                    "created_at": T0 + timedelta(minutes=i),
                    "deleted_at": None,
                }
                for i in range(recorded)
            ]
            for start in range(0, recorded, 10_000):
                await connection.execute(insert(ArchiveRow), rows[start : start + 10_000])
        uow_factory = SqlUnitOfWorkFactory(engine)
        async with uow_factory() as uow:  # the counter as it would be after those archives
            await uow.quotas.adjust("demo", "local", 1000 * recorded, recorded, T0)
            await uow.commit()
        timings = []
        for index in range(updates):
            at = T0 + timedelta(days=365, seconds=index)
            started = time.perf_counter()
            async with uow_factory() as uow:
                await uow.archives.add(
                    ArchiveRecord(0, recorded + index, "demo", f"/a/n{index}", 1000, at)
                )
                await adjust_usage(uow, "demo", POLICY, 1000, 1, at)
                await uow.commit()
            timings.append(time.perf_counter() - started)
        return timings


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    args = parser.parse_args()
    print(
        f"{'archives recorded':>18} {'median':>10} {'p99':>10}   (one archive written: "
        "record + counter + thresholds + commit)"
    )
    medians = []
    with tempfile.TemporaryDirectory() as folder:
        for recorded in (1_000, 10_000, 100_000):
            timings = await measure(recorded, args.updates, Path(folder))
            median = statistics.median(timings)
            p99 = statistics.quantiles(timings, n=100)[98]
            medians.append(median)
            print(f"{recorded:>18,} {median * 1000:>8.2f} ms {p99 * 1000:>8.2f} ms")
    print(f"ratio 100,000 / 1,000 (median): {medians[-1] / medians[0]:.2f}  (flat is ~1)")


if __name__ == "__main__":
    asyncio.run(main())
