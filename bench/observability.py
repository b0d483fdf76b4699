"""What observability costs (H4): a log line with its context fields, the metrics a command
feeds, and one `/metrics` scrape over a large outbox.

    python bench/observability.py [--lines 20000] [--pending 0,10000,100000,1000000] [--scrapes 50]

- A JSON log line through the server's handler (context filter, redaction, formatter) to a
  null stream, with five context fields bound, against the same line with none bound.
- The metrics one Slack command feeds (its outcome counted, its ack timed), per command.
- What the app adds around a platform's request (`bot/app.py`'s middleware: a request id, the
  context bound and reset, the ack timed), against calling the handler directly.
- A scrape (`refresh` reads the active jobs and counts the pending deliveries per platform,
  then the registry is written out) on SQLite with that many deliveries sent and 1% of
  them pending across four platforms: the count uses the (state, next_attempt_at) index, so
  it follows the pending ones, not the table.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import insert

from bot.app import platform_requests
from bot.logs import JsonFormatter, LogContext, RedactSecrets
from bot.metrics import PrometheusTelemetry
from core.support.log_context import log_context
from storage import SqlUnitOfWorkFactory, open_engine, upgrade
from storage.tables import DeliveryRow

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PLATFORMS = ("slack", "teams", "discord", "webhook")


class _Null(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


def log_line_cost(lines: int) -> tuple[float, float]:
    """Microseconds a line, without and with the five context fields bound."""
    handler = logging.StreamHandler(_Null())
    handler.setFormatter(JsonFormatter())
    handler.addFilter(LogContext())
    handler.addFilter(RedactSecrets())
    log = logging.getLogger("bench.observability")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)

    def run() -> float:
        started = time.perf_counter()
        for n in range(lines):
            log.info("run by slack:T0EXPORT:U0ADMIN: %s", "ok" if n % 2 else "refused")
        return (time.perf_counter() - started) / lines * 1e6

    run()  # warm the redaction cache and the formatter
    bare = min(run() for _ in range(3))
    request = log_context(platform="slack", workspace="T0EXPORT", request_id="0123456789abcdef")
    with request, log_context(job_id=123456, target="site-a"):
        fielded = min(run() for _ in range(3))
    return bare, fielded


def metrics_per_command(commands: int) -> float:
    telemetry = PrometheusTelemetry(["site-a"])
    started = time.perf_counter()
    for n in range(commands):
        telemetry.command_handled("status", "slack", "ok")
        telemetry.acked("slack", 0.004 + (n % 7) / 1000)
    return (time.perf_counter() - started) / commands * 1e6


async def request_overhead(requests: int) -> tuple[float, float]:
    """Microseconds a request, its handler called directly and through the middleware."""
    request = make_mocked_request("POST", "/slack/events", app=web.Application())

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response()

    async def run(through_middleware: bool) -> float:
        started = time.perf_counter()
        for _ in range(requests):
            if through_middleware:
                await platform_requests(request, handler)
            else:
                await handler(request)
        return (time.perf_counter() - started) / requests * 1e6

    direct = min([await run(False) for _ in range(3)])
    wrapped = min([await run(True) for _ in range(3)])
    return direct, wrapped


async def scrape_cost(total: int, scrapes: int, folder: Path) -> tuple[float, float, int]:
    """Median and p95 of a scrape, in ms, and the pending count it read."""
    async with open_engine(f"sqlite+aiosqlite:///{folder / f'scrape-{total}.db'}") as engine:
        await upgrade(engine)
        rows = [
            {
                "event_id": n,
                "platform": PLATFORMS[n % len(PLATFORMS)],
                "workspace": "W1",
                "channel": f"C{n}",
                "private": False,
                "state": "pending" if n % 100 == 0 else "sent",
                "attempts": 0,
                "next_attempt_at": T0,
                "message_id": "",
                "last_error": "",
            }
            for n in range(total)
        ]
        async with engine.begin() as connection:
            for start in range(0, total, 10_000):
                await connection.execute(insert(DeliveryRow), rows[start : start + 10_000])
        uow_factory = SqlUnitOfWorkFactory(engine)
        telemetry = PrometheusTelemetry([f"target-{n}" for n in range(20)])
        timings = []
        for _ in range(scrapes):
            started = time.perf_counter()
            await telemetry.refresh(uow_factory)
            telemetry.exposition()
            timings.append((time.perf_counter() - started) * 1000)
        pending = sum(
            int(telemetry.outbox_depth.labels(platform)._value.get()) for platform in PLATFORMS
        )
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)], pending


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--pending", default="0,10000,100000,1000000")
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()
    bare, fielded = log_line_cost(args.lines)
    print(f"JSON log line: {bare:.1f} µs bare, {fielded:.1f} µs with 5 context fields")
    print(f"metrics fed by one command: {metrics_per_command(args.lines):.2f} µs")
    direct, wrapped = await request_overhead(args.lines)
    print(f"a platform request: {direct:.1f} µs direct, {wrapped:.1f} µs through the middleware")
    with tempfile.TemporaryDirectory() as folder:
        for total in (int(n) for n in args.pending.split(",")):
            median, p95, pending = await scrape_cost(total, args.scrapes, Path(folder))
            print(
                f"/metrics scrape, {total:>9,} deliveries ({pending:,} pending): "
                f"median {median:.2f} ms, p95 {p95:.2f} ms"
            )


if __name__ == "__main__":
    asyncio.run(main())
