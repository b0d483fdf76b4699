"""Job-event API ingest: signed events accepted per second, beside a signature-only baseline.

    python bench/api_ingest.py [--runs 400] [--concurrency 16] [--targets 16]
                               [--databases sqlite,postgresql] [--pg-url URL]

The whole app (`create_app`, as `serve` runs it) listens on loopback in a process of its own,
with `--targets` targets of kind `reported` and one API key. This process is the clients:
`--concurrency` of them, each reporting runs of its own targets, each run three signed calls
(start, progress, finish with exit status 0), so `--runs` runs are 3 x runs events, each one
a transaction with its audit entry (the finish also its job-ended event).

Baseline, in the same server and run: the same number of signed calls, with the same bodies and
concurrency, to a route the bench adds that only authenticates them (reads the key, derives
its secret, checks the HMAC and the window) and answers 204: HTTP, JSON-free, no write. The
ratio accepted/baseline is what the API's work costs over verifying a signature (aim >= 0.5).

Storage: a fresh SQLite file; PostgreSQL (`--pg-url` or EXPORTBOT_TEST_PG_URL) in a scratch
database created on that server and dropped afterwards. Nothing is logged below WARNING.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from sqlalchemy import text

from core.api.problems import ApiProblem
from core.api.signature import sign
from storage.database import create_engine

AIM = 0.5


def _serve(database_url: str, data_dir: str, targets: int, pipe: Connection) -> None:
    """The bot's process: the app plus the baseline route; sends (port, printed key)."""
    from bot.api_master import load_master_key
    from bot.app import BOT_KEY, create_app
    from bot.config import Settings
    from bot.logs import configure_logging
    from core.api.admin import create_key
    from core.clock import SystemClock
    from core.domain.model import Actor, Principal

    configure_logging("WARNING", "text")
    settings = Settings(
        database_url=database_url,
        data_dir=data_dir,
        admins=["console:bench"],
        targets=[{"name": f"t{n}", "kind": "reported"} for n in range(targets)],  # type: ignore[misc]
        scheduler=False,
    )
    app = create_app(settings)

    async def verify_only(request: web.Request) -> web.Response:
        api = request.app[BOT_KEY].api
        assert api is not None
        try:
            await api.authenticate(request.headers, await request.read())
        except ApiProblem as problem:
            return web.Response(status=problem.status)
        return web.Response(status=204)

    app.router.add_post("/bench/verify", verify_only)

    async def main() -> None:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        bot = app[BOT_KEY]
        master = load_master_key(settings.api_master_key_path)
        actor = Actor(Principal("cli", "", "bench"), "bench")
        printed = await create_key(bot.uow_factory, master, SystemClock(), actor, "bench")
        pipe.send((runner.addresses[0][1], printed))
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # until told to stop
        await runner.cleanup()

    asyncio.run(main())


def _headers(key: str, body: bytes) -> dict[str, str]:
    stamp = str(int(time.time()))
    return {
        "Content-Type": "application/json",
        "X-Exportbot-Key": "bench",
        "X-Exportbot-Timestamp": stamp,
        "X-Exportbot-Signature": sign(key, stamp, body),
    }


async def _post(
    session: aiohttp.ClientSession, url: str, key: str, payload: dict[str, object]
) -> int:
    body = json.dumps(payload).encode()
    async with session.post(url, data=body, headers=_headers(key, body)) as response:
        await response.read()
        return response.status


async def _clients(
    base: str, key: str, runs: int, concurrency: int, targets: int, *, baseline: bool
) -> tuple[float, int]:
    """(seconds, accepted calls) for `runs` runs of three calls from `concurrency` clients."""
    accepted = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(runs):
        queue.put_nowait(n)
    tag = uuid.uuid4().hex[:6]

    async def client(number: int, session: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while not queue.empty():
            n = queue.get_nowait()
            target = f"t{number}"  # a client of its own per target: never two runs at once
            rid = f"{tag}-{n}"
            calls: list[tuple[str, dict[str, object]]] = [
                (f"/api/v1/targets/{target}/runs", {"rid": rid, "host": "bench"}),
                (f"/api/v1/targets/{target}/runs/{rid}/progress", {"bytes": n, "percent": 50}),
                (f"/api/v1/targets/{target}/runs/{rid}/finish", {"exit_status": 0, "size": n}),
            ]
            for path, payload in calls:
                status = await _post(
                    session, base + ("/bench/verify" if baseline else path), key, payload
                )
                accepted += status in (200, 201, 204)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(i, session) for i in range(concurrency)))
        return time.perf_counter() - started, accepted


@asynccontextmanager
async def _database(kind: str, pg_url: str | None) -> AsyncIterator[tuple[str, str]]:
    """(database URL, data dir) of a fresh database of `kind`."""
    with tempfile.TemporaryDirectory(prefix="exportbot-api-") as folder:
        if kind == "sqlite":
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}", folder
            return
        assert pg_url is not None
        server, _, _ = pg_url.rpartition("/")
        name = f"exportbot_api_{uuid.uuid4().hex[:10]}"
        admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as connection:
                await connection.execute(text(f"CREATE DATABASE {name}"))
            try:
                yield f"{server}/{name}", folder
            finally:
                async with admin.connect() as connection:
                    await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        finally:
            await admin.dispose()


async def measure(kind: str, args: argparse.Namespace) -> float:
    async with _database(kind, args.pg_url) as (url, folder):
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        server = context.Process(target=_serve, args=(url, folder, args.targets, theirs))
        server.start()
        try:
            port, key = await asyncio.get_running_loop().run_in_executor(None, ours.recv)
            base = f"http://127.0.0.1:{port}"
            await _clients(base, key, 20, args.concurrency, args.targets, baseline=False)  # warm
            rates: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.rounds):  # interleaved, so drift in the machine hits both
                for baseline in (True, False):
                    seconds, accepted = await _clients(
                        base, key, args.runs, args.concurrency, args.targets, baseline=baseline
                    )
                    assert accepted == 3 * args.runs, f"{accepted} of {3 * args.runs} accepted"
                    rates[baseline].append(accepted / seconds)
        finally:
            ours.send("stop")
            server.join(60)
    full, base_rate = statistics.median(rates[False]), statistics.median(rates[True])
    ratio = full / base_rate
    print(
        f"{kind:>11}  accepted {full:7.0f} events/s   signature only {base_rate:7.0f} calls/s   "
        f"ratio {ratio:.2f} ({'meets' if ratio >= AIM else 'BELOW'} the {AIM} aim)   "
        f"[median of {args.rounds}; {3 * args.runs} calls each, {args.concurrency} clients]"
    )
    return ratio


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--targets", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("EXPORTBOT_TEST_PG_URL"))
    args = parser.parse_args()
    if args.targets < args.concurrency:
        parser.error("--targets must be at least --concurrency (one client per target)")
    print(f"CPUs: {os.cpu_count()}; the server in its own process, the clients in this one")
    for kind in args.databases.split(","):
        if kind == "postgresql" and not args.pg_url:
            print("postgresql  skipped: give --pg-url or set EXPORTBOT_TEST_PG_URL")
            continue
        await measure(kind, args)


if __name__ == "__main__":
    asyncio.run(main())
