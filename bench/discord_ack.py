"""Discord interactions: a bare signature check versus `/export help` and `/export status`.

    python bench/discord_ack.py [--requests 5000] [--warmup 500] [--rounds 3]
                                [--concurrency 16] [--no-pin] [--profile DIR]

Issue 7's done-criterion. The server under test runs alone in a child process (the bot is one
process in production, and the load generator must not share its event loop); this process
sends Ed25519-signed interactions, shaped as Discord posts them, to `POST /discord/interactions`
over keep-alive connections, `concurrency` requests in flight at a time, and times each one
from send to the last byte of the response. Scenarios, each on a fresh server and database:

- baseline: a bare aiohttp handler that only checks the signature with the bot's own
  `InteractionVerifier` and answers `{"type": 1}`: the floor of what any answer costs;
- `/export help` and `/export status demo` on the real app (`bot.app.create_app`, configured
  as tests/adapters/discord_harness.py does, against the Discord API stand-in, where it logs in
  at start): every interaction is verified, parsed, authorised, answered and audited (read-only
  commands through the group-committed audit writer) on SQLite, which is what we measure.

Every interaction has a fresh id and token and its own signature; all of a cell's are signed
before its timed loop (Ed25519 signing costs this process ~30 µs each, which would otherwise
be load-generator time), with the current time as timestamp, which the server accepts for
5 minutes (a cell takes seconds). With 2 CPUs or more the server is pinned to the last CPU
and this process to the others (`--no-pin`: the scheduler places both), so each has a core
of its own (the server's aiosqlite threads share its core, as they share its GIL); the CPU
time each used during a cell is printed beside it, to tell which side was the bottleneck.

The three servers run side by side (idle but for their cell) and the cells are taken in
`--rounds` rounds, baseline, help, status, baseline, …, so that a burst of other work on the
machine spoils one round rather than one scenario; every cell is printed, and the aims are
judged on each scenario's least disturbed round (its highest interactions/s). A cell where
neither process had most of its core (both under 85 %: something else ran) is marked `*`.

Each cell is a warm-up, then `--requests` requests. Counted apart: "deferred" answers
(type 5: the command overran the answer budget; the real answer goes to the interaction's
webhook) and errors (not 200, or an answer without the expected text). Aims: help >= 0.75 x
the baseline's interactions/s; status p99 < 50 ms at 16 concurrent. `--profile DIR` instead
runs cProfile in the server for each scenario at 16 concurrent and prints where the event
loop's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import multiprocessing
import os
import platform
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web

from adapters.discord.adapter import ANSWER_WITHIN
from adapters.discord.manifest import option_name
from adapters.discord.verify import InteractionVerifier
from bot.app import create_app
from bot.config import TargetConfig
from bot.logs import configure_logging
from tests.adapters.discord_harness import PUBLIC_KEY, SIGNING_KEY, harness_settings
from tests.adapters.discord_standin import discord_standin, signed_interaction, slash_command

HELP_AIM = 0.75  # help interactions/s / baseline interactions/s
STATUS_P99_AIM_MS = 50.0  # at 16 concurrent
DEFERRED = '{"type": 5'  # the answer of a command that overran ANSWER_WITHIN
PATH = "/discord/interactions"


@dataclass(frozen=True)
class Scenario:
    kind: str  # "baseline" or "real": which server
    name: str
    command: str  # the /export subcommand
    options: dict[str, str]
    expect: str  # in every right answer


DISTURBED = 0.85  # CPU share of its core under which neither side was the bottleneck
BASELINE = Scenario("baseline", "baseline: verify only", "help", {}, '{"type": 1}')
HELP = Scenario("real", "/export help", "help", {}, "exportbot commands")
STATUS = Scenario(
    "real", "/export status demo", "status", {option_name("job-or-target"): "demo"}, "Target demo"
)
SCENARIOS = (BASELINE, HELP, STATUS)


# -- the server, in its own process ---------------------------------------------------------


def baseline_app() -> web.Application:
    """What any answer costs: read the body, check its signature, answer PONG."""
    verifier = InteractionVerifier(PUBLIC_KEY)

    async def interactions(request: web.Request) -> web.Response:
        body = await request.read()
        if not verifier.verify_headers(request.headers, body):
            return web.json_response({"error": "invalid request signature"}, status=401)
        return web.json_response({"type": 1})

    app = web.Application()
    app.router.add_post(PATH, interactions)
    return app


def server_main(kind: str, workdir: str, source: str, cpus: list[int], conn: Connection) -> None:
    """Child process entry: serve until the parent says stop (or goes away)."""
    if cpus:
        os.sched_setaffinity(0, cpus)  # before any thread: aiosqlite's inherits it
    configure_logging("WARNING")
    asyncio.run(_serve(kind, Path(workdir), Path(source), conn))


async def _serve(kind: str, workdir: Path, source: Path, conn: Connection) -> None:
    profiler = cProfile.Profile()

    async def profile(request: web.Request) -> web.Response:
        if request.match_info["action"] == "start":
            profiler.enable()
        else:
            profiler.disable()
            profiler.dump_stats(request.query["path"])
        return web.Response(text="ok")

    # The real app logs in with GET /users/@me at start, and sets discord.http.Route.BASE
    # (a class attribute) to the stand-in: harmless here, this process serves one app.
    async with discord_standin() as standin:
        if kind == "baseline":
            app = baseline_app()
        else:
            settings = harness_settings(
                workdir,
                standin,
                targets=[TargetConfig(name="demo", source=str(source), description="bench")],
                link_secret="bench",
                shutdown_grace_seconds=1.0,
            )
            app = create_app(settings)
        app.router.add_post("/_bench/profile/{action}", profile)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        conn.send(runner.addresses[0][1])
        with contextlib.suppress(EOFError):  # EOFError: the parent died
            await asyncio.to_thread(conn.recv)  # "stop"
        await runner.cleanup()
    with contextlib.suppress(OSError):
        conn.send("stopped")


class Server:
    """The server under test in a spawned process; `url` is its interactions endpoint."""

    def __init__(self, kind: str, workdir: Path, source: Path, cpus: list[int]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=server_main,
            args=(kind, str(workdir), str(source), cpus, child),
            daemon=True,
        )
        self._process.start()
        child.close()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError(f"the {kind} server did not start within 60 s")
        port = self._conn.recv()
        self.pid = self._process.pid
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}{PATH}"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process, all its threads (Linux; else 0)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self._conn.send("stop")
        if self._conn.poll(30):
            self._conn.recv()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


# -- the load generator, in this process ----------------------------------------------------


@dataclass
class Cell:
    scenario: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    deferred: int = 0  # answered type 5: the command missed ANSWER_WITHIN
    errors: list[str] = field(default_factory=list)  # not 200, or not the expected answer
    server_cpu: float = 0.0  # seconds
    client_cpu: float = 0.0
    round: int = 1

    @property
    def disturbed(self) -> bool:
        return max(self.server_cpu, self.client_cpu) < DISTURBED * self.seconds

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] * 1000


def signed_batch(scenario: Scenario, count: int) -> list[tuple[bytes, dict[str, str]]]:
    """`count` interactions, each with a fresh id and token, signed now."""
    return [
        signed_interaction(SIGNING_KEY, slash_command(scenario.command, scenario.options))
        for _ in range(count)
    ]


async def load(
    session: aiohttp.ClientSession, server: Server, cell: Cell, scenario: Scenario, count: int
) -> Cell:
    """`count` signed interactions, `cell.concurrency` in flight, recorded in `cell`."""
    batch = iter(signed_batch(scenario, count))  # signed before the clock starts

    async def worker() -> None:
        for body, headers in batch:
            started = time.perf_counter()
            try:
                async with session.post(server.url, data=body, headers=headers) as response:
                    answer = await response.text()
                    status = response.status
            except aiohttp.ClientError as error:
                status, answer = 0, repr(error)
            cell.latencies.append(time.perf_counter() - started)
            if status == 200 and scenario.expect in answer:
                continue
            if status == 200 and answer.startswith(DEFERRED):
                cell.deferred += 1
            else:
                cell.errors.append(f"HTTP {status}: {answer[:160]!r}")

    server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(cell.concurrency)))
    cell.seconds = time.perf_counter() - started
    cell.server_cpu = server.cpu_seconds() - server_cpu
    cell.client_cpu = time.process_time() - client_cpu
    return cell


async def measure(
    scenario: Scenario, server: Server, concurrency: int, args: argparse.Namespace
) -> Cell:
    connector = aiohttp.TCPConnector(limit=concurrency)  # keep-alive: one connection per slot
    async with aiohttp.ClientSession(connector=connector) as session:
        await load(session, server, Cell(scenario.name, concurrency), scenario, args.warmup)
        cell = Cell(scenario.name, concurrency)
        return await load(session, server, cell, scenario, args.requests)


HEADER = (
    f"{'scenario':<24} {'round':>5} {'conc':>5} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
    f"{'srv CPU':>8} {'gen CPU':>8} {'deferred':>9} {'errors':>7}"
)


def print_cell(cell: Cell) -> None:
    print(
        f"{cell.scenario:<24} {cell.round:>5} {cell.concurrency:>5} {cell.rate:>9,.0f} "
        f"{cell.p50_ms:>9.2f} {cell.p99_ms:>9.2f} {cell.server_cpu / cell.seconds:>8.0%} "
        f"{cell.client_cpu / cell.seconds:>8.0%} {cell.deferred:>9} {len(cell.errors):>7}"
        f"{' *' if cell.disturbed else ''}",
        flush=True,
    )
    if cell.errors:
        print(f"    first error: {cell.errors[0]}", flush=True)


# -- scenarios --------------------------------------------------------------------------------


def placement(pin: bool) -> tuple[list[int], str]:
    """The server's CPUs (empty: unpinned), after pinning this process to the others."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(cpus) < 2:
        return [], "server and load generator placed by the scheduler"
    os.sched_setaffinity(0, cpus[:-1])
    return cpus[-1:], f"server pinned to CPU {cpus[-1]}, load generator to CPU {cpus[:-1]}"


async def run_rounds(
    args: argparse.Namespace, workdir: Path, source: Path, cpus: list[int]
) -> list[list[Cell]]:
    """Every scenario's cells, round after round; per scenario, one list of cells."""
    servers: list[Server] = []
    folders = [
        Path(tempfile.mkdtemp(prefix=f"{scenario.kind}-", dir=workdir)) for scenario in SCENARIOS
    ]
    cells: list[list[Cell]] = [[] for _ in SCENARIOS]
    try:
        for scenario, folder in zip(SCENARIOS, folders, strict=True):
            servers.append(Server(scenario.kind, folder, source, cpus))
        for round_ in range(1, args.rounds + 1):
            for scenario, server, done in zip(SCENARIOS, servers, cells, strict=True):
                for concurrency in args.concurrency:
                    cell = await measure(scenario, server, concurrency, args)
                    cell.round = round_
                    print_cell(cell)
                    done.append(cell)
    finally:
        for server in servers:
            server.stop()
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
    return cells


def least_disturbed(cells: list[Cell], concurrency: list[int]) -> list[Cell]:
    """Per concurrency, the round with the highest interactions/s."""
    return [
        max((c for c in cells if c.concurrency == n), key=lambda c: c.rate) for n in concurrency
    ]


def verdict(ok: bool) -> str:
    return "meets aim" if ok else "MISSES AIM"


def print_aims(
    baseline: list[Cell], help_: list[Cell], status: list[Cell], every: list[Cell]
) -> None:
    print()
    print(f"Aim 1: /export help interactions/s >= {HELP_AIM:.2f} x the baseline's")
    for base, cell in zip(baseline, help_, strict=True):
        ratio = cell.rate / base.rate
        mark = verdict(ratio >= HELP_AIM) if cell.concurrency == 16 else "(for reference)"
        print(
            f"  {cell.concurrency:>3} concurrent: {cell.rate:,.0f} / {base.rate:,.0f} = "
            f"{ratio:.2f} -> {mark}"
        )
    print(f"Aim 2: /export status demo p99 < {STATUS_P99_AIM_MS:.0f} ms at 16 concurrent")
    for cell in status:
        ratio = cell.p99_ms / STATUS_P99_AIM_MS
        mark = verdict(ratio < 1) if cell.concurrency == 16 else "(for reference)"
        print(
            f"  {cell.concurrency:>3} concurrent: p99 {cell.p99_ms:.1f} ms = {ratio:.2f} x "
            f"the limit -> {mark}"
        )
    deferred = sum(c.deferred for c in every)
    errors = sum(len(c.errors) for c in every)
    print(
        f"Deferred (answered type 5 after the {ANSWER_WITHIN} s answer budget, the real answer "
        f"through the interaction's webhook): {deferred}"
    )
    print(f"Errors (not 200, or an answer without the expected text): {errors}")
    disturbed = sum(c.disturbed for c in every)
    if disturbed:
        print(
            f"* {disturbed} cell(s) where neither process used {DISTURBED:.0%} of its core: "
            "other work on the machine; judged on the least disturbed round"
        )


# -- profile mode -----------------------------------------------------------------------------


async def profile(
    args: argparse.Namespace, workdir: Path, source: Path, cpus: list[int], out: Path
) -> None:
    """cProfile in the server during `--requests` requests at 16 concurrent, per scenario.

    cProfile sees the event-loop thread only (not aiosqlite's thread, where SQLite runs), and
    SQLAlchemy's greenlet switches make its cumulative times meaningless: self times only.
    """
    for scenario in SCENARIOS:
        folder = Path(tempfile.mkdtemp(prefix=f"{scenario.kind}-", dir=workdir))
        server = Server(scenario.kind, folder, source, cpus)
        path = out / f"{scenario.kind}-{scenario.command}-c16.prof"
        try:
            connector = aiohttp.TCPConnector(limit=16)
            async with aiohttp.ClientSession(connector=connector) as session:
                await load(session, server, Cell(scenario.name, 16), scenario, args.warmup)
                await session.post(f"{server.base}/_bench/profile/start")
                cell = await load(session, server, Cell(scenario.name, 16), scenario, args.requests)
                await session.post(f"{server.base}/_bench/profile/stop", params={"path": str(path)})
        finally:
            server.stop()
            shutil.rmtree(folder, ignore_errors=True)
        per = 1000 / args.requests  # seconds in total -> ms per request
        raw: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
        rows = [
            (tottime, calls, f"{re.sub(r'.*/(site-packages|main)/', '', file)}:{line}({name})")
            for (file, line, name), (_cc, calls, tottime, _cum, _callers) in raw.items()
        ]
        loop_ms = sum(row[0] for row in rows) * per
        print(
            f"\n== {scenario.name}, 16 concurrent, under cProfile: {cell.rate:,.0f} "
            f"interactions/s, {cell.deferred} deferred, {len(cell.errors)} errors; event-loop "
            f"thread {loop_ms:.3f} ms per request (incl. epoll waits) -> {path}"
        )
        print(f"   {'self ms/req':>11} {'calls/req':>9}  function (top by self time)")
        for tottime, calls, where in sorted(rows, reverse=True)[: args.top]:
            print(f"   {tottime * per:>11.3f} {calls / args.requests:>9.1f}  {where}")


# -- main -------------------------------------------------------------------------------------


def concurrency_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


async def run_all(
    args: argparse.Namespace, workdir: Path, source: Path, cpus: list[int], placed: str
) -> None:
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.2f} before the run); "
        f"{placed}; {args.requests} requests per cell after {args.warmup} warm-up, all signed "
        "before the timed loop; srv/gen CPU: CPU time used by the server / load generator "
        "over the cell's time (100% = one core)"
    )
    print(HEADER)
    started = time.perf_counter()
    cells = await run_rounds(args, workdir, source, cpus)
    baseline, help_, status = [least_disturbed(group, args.concurrency) for group in cells]
    print(f"\nLeast disturbed of {args.rounds} rounds (highest req/s), what the aims judge:")
    print(HEADER)
    for cell in baseline + help_ + status:
        print_cell(cell)
    print_aims(baseline, help_, status, [cell for group in cells for cell in group])
    print(f"Whole run: {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="measured, per cell")
    parser.add_argument("--warmup", type=int, default=500, help="unmeasured, per cell")
    parser.add_argument("--rounds", type=int, default=3, help="of every scenario, interleaved")
    parser.add_argument("--concurrency", type=concurrency_list, default=[16])
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="let the scheduler place processes"
    )
    parser.add_argument("--profile", metavar="DIR", help="profile each scenario instead")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    args = parser.parse_args()
    cpus, placed = placement(args.pin)
    with tempfile.TemporaryDirectory(prefix="exportbot-bench-") as temp:
        workdir = Path(temp)
        source = workdir / "source"
        source.mkdir()
        (source / "readme.txt").write_text("a target to ask the status of\n")
        if args.profile:
            out = Path(args.profile)
            out.mkdir(parents=True, exist_ok=True)
            asyncio.run(profile(args, workdir, source, cpus, out))
        else:
            asyncio.run(run_all(args, workdir, source, cpus, placed))


if __name__ == "__main__":
    main()
