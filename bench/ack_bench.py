"""What bench/slack_ack.py and bench/discord_ack.py share: an endpoint's ack path, measured.

Not a script. The two benches import it as a sibling module (run as `python bench/<name>.py`,
`sys.path[0]` is bench/), after putting the repository root on `sys.path` for the project's
own packages; the server's spawned process inherits both from its parent's `sys.path`.

Here: the server under test in a child process of its own (optionally pinned to a CPU), with
a cProfile switch; the load generator (signed requests over keep-alive connections,
`concurrency` in flight, each timed from send to the last byte of the response); a cell's
figures and their table; the aims' lines; `--profile`'s report; the options both take. Each
bench keeps what is its own: its baseline and real app (`AppOpener`), how its requests are
signed and its answers read (`Workload`), its scenarios and its aims.
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
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from bot.logs import configure_logging

Request = tuple[bytes, dict[str, str]]  # a signed body and its headers
# In the server's process: (kind, workdir, source) -> the app, and whatever picklable value
# the parent needs from inside that process (Slack: the stand-in's response_url), for as long
# as the app serves (a stand-in of the platform's API is typically open meanwhile). A module
# level function of the bench: it reaches the spawned process pickled by name.
AppOpener = Callable[
    [str, Path, Path], contextlib.AbstractAsyncContextManager[tuple[web.Application, Any]]
]

DISTURBED = 0.85  # CPU share of its core under which neither side was the bottleneck
PROFILED_CONCURRENCY = 16  # of --profile's cell


# -- the server, in its own process ---------------------------------------------------------


def server_main(
    open_app: AppOpener, kind: str, workdir: str, source: str, cpus: list[int], conn: Connection
) -> None:
    """Child process entry: serve until the parent says stop (or goes away)."""
    if cpus:
        os.sched_setaffinity(0, cpus)  # before any thread: aiosqlite's inherits it
    configure_logging("WARNING")
    asyncio.run(_serve(open_app, kind, Path(workdir), Path(source), conn))


async def _serve(
    open_app: AppOpener, kind: str, workdir: Path, source: Path, conn: Connection
) -> None:
    profiler = cProfile.Profile()

    async def profile(request: web.Request) -> web.Response:
        if request.match_info["action"] == "start":
            profiler.enable()
        else:
            profiler.disable()
            profiler.dump_stats(request.query["path"])
        return web.Response(text="ok")

    async with open_app(kind, workdir, source) as (app, info):
        app.router.add_post("/_bench/profile/{action}", profile)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        conn.send((runner.addresses[0][1], info))
        with contextlib.suppress(EOFError):  # EOFError: the parent died
            await asyncio.to_thread(conn.recv)  # "stop"
        await runner.cleanup()
    with contextlib.suppress(OSError):
        conn.send("stopped")


class Server:
    """The server under test in a spawned process, on a fresh folder (so a fresh database) in
    `workdir`; `url` is its endpoint at `path`. A context manager: stopped on exit.

    `info` is what `open_app` handed back beside the app. `cpus`: where the server may run
    (empty: wherever the scheduler puts it).
    """

    def __init__(
        self,
        open_app: AppOpener,
        path: str,
        kind: str,
        workdir: Path,
        source: Path,
        cpus: Sequence[int] = (),
    ) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=workdir))
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=server_main,
            args=(open_app, kind, str(self._folder), str(source), list(cpus), child),
            daemon=True,
        )
        self._process.start()
        child.close()
        if not self._conn.poll(60):
            self._process.kill()
            shutil.rmtree(self._folder, ignore_errors=True)
            raise RuntimeError(f"the {kind} server did not start within 60 s")
        port, self.info = self._conn.recv()
        self.pid = self._process.pid
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}{path}"

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
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def placement(pin: bool) -> tuple[list[int], str]:
    """The server's CPUs (empty: unpinned), after pinning this process to the others."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not pin or len(cpus) < 2:
        return [], "server and load generator placed by the scheduler"
    os.sched_setaffinity(0, cpus[:-1])
    return cpus[-1:], f"server pinned to CPU {cpus[-1]}, load generator to CPU {cpus[:-1]}"


# -- the load generator, in this process ----------------------------------------------------


class Workload(Protocol):
    """What a cell sends, and how its answers are judged."""

    @property
    def name(self) -> str:
        """The cell's scenario, as the table shows it."""

    @property
    def expect(self) -> str:
        """In every right answer."""

    def requests(self, server: Server, count: int) -> Iterable[Request]:
        """`count` signed requests for `server`, signed now (before the clock starts)."""

    def deferred(self, answer: str) -> bool:
        """Whether an answer without `expect` says the command overran the ack budget (the
        real answer follows elsewhere): counted apart, not as an error."""


@dataclass
class Cell:
    scenario: str
    concurrency: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    deferred: int = 0  # acked in time, the real answer to follow: it missed the ack budget
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


async def load(
    session: aiohttp.ClientSession, server: Server, cell: Cell, workload: Workload, count: int
) -> Cell:
    """`count` requests of `workload`, `cell.concurrency` in flight, recorded in `cell`."""
    requests = iter(workload.requests(server, count))  # one iterator shared by the workers

    async def worker() -> None:
        for body, headers in requests:
            started = time.perf_counter()
            try:
                async with session.post(server.url, data=body, headers=headers) as response:
                    answer = await response.text()
                    status = response.status
            except aiohttp.ClientError as error:
                status, answer = 0, repr(error)
            cell.latencies.append(time.perf_counter() - started)
            if status == 200 and workload.expect in answer:
                continue
            if status == 200 and workload.deferred(answer):
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
    server: Server, workload: Workload, concurrency: int, args: argparse.Namespace
) -> Cell:
    """One cell: `--warmup` requests unrecorded, then `--requests` recorded."""
    connector = aiohttp.TCPConnector(limit=concurrency)  # keep-alive: one connection per slot
    async with aiohttp.ClientSession(connector=connector) as session:
        await load(session, server, Cell(workload.name, concurrency), workload, args.warmup)
        cell = Cell(workload.name, concurrency)
        return await load(session, server, cell, workload, args.requests)


@dataclass(frozen=True)
class Table:
    """The cells' table; `cpu` adds the round, each side's CPU share and the disturbed mark."""

    width: int  # of the scenario column
    cpu: bool = False

    def print_header(self) -> None:
        round_, cpu = (
            (f" {'round':>5}", f" {'srv CPU':>8} {'gen CPU':>8}") if self.cpu else ("", "")
        )
        print(
            f"{'scenario':<{self.width}}{round_} {'conc':>5} {'req/s':>9} {'p50 ms':>9} "
            f"{'p99 ms':>9}{cpu} {'deferred':>9} {'errors':>7}"
        )

    def print_row(self, cell: Cell) -> None:
        round_, cpu, mark = "", "", ""
        if self.cpu:
            round_ = f" {cell.round:>5}"
            cpu = f" {cell.server_cpu / cell.seconds:>8.0%} {cell.client_cpu / cell.seconds:>8.0%}"
            mark = " *" if cell.disturbed else ""
        print(
            f"{cell.scenario:<{self.width}}{round_} {cell.concurrency:>5} {cell.rate:>9,.0f} "
            f"{cell.p50_ms:>9.2f} {cell.p99_ms:>9.2f}{cpu} {cell.deferred:>9} "
            f"{len(cell.errors):>7}{mark}",
            flush=True,
        )
        if cell.errors:
            print(f"    first error: {cell.errors[0]}", flush=True)


# -- aims -------------------------------------------------------------------------------------


def judge(ok: bool, concurrency: int, at: int | None) -> str:
    """The verdict of a line; `at`: the one concurrency judged (None: every one)."""
    if at is not None and concurrency != at:
        return "(for reference)"
    return "meets aim" if ok else "MISSES AIM"


def print_rate_aim(
    title: str, baseline: list[Cell], cells: list[Cell], aim: float, at: int | None = None
) -> None:
    """`title`, then per concurrency the cells' rate over the baseline's, against `aim`."""
    print(title)
    for base, cell in zip(baseline, cells, strict=True):
        ratio = cell.rate / base.rate
        print(
            f"  {cell.concurrency:>3} concurrent: {cell.rate:,.0f} / {base.rate:,.0f} = "
            f"{ratio:.2f} -> {judge(ratio >= aim, cell.concurrency, at)}"
        )


def print_p99_aim(title: str, cells: list[Cell], limit_ms: float, at: int | None = None) -> None:
    """`title`, then per concurrency the cells' p99 against `limit_ms`."""
    print(title)
    for cell in cells:
        ratio = cell.p99_ms / limit_ms
        print(
            f"  {cell.concurrency:>3} concurrent: p99 {cell.p99_ms:.1f} ms = {ratio:.2f} x "
            f"the limit -> {judge(ratio < 1, cell.concurrency, at)}"
        )


def print_counts(cells: list[Cell], deferred: str) -> None:
    """The deferred answers (`deferred` says what they are) and the errors, over `cells`."""
    print(f"Deferred ({deferred}): {sum(c.deferred for c in cells)}")
    print(
        "Errors (not 200, or an answer without the expected text): "
        f"{sum(len(c.errors) for c in cells)}"
    )


# -- profile mode -----------------------------------------------------------------------------


async def profile_cell(
    server: Server, workload: Workload, args: argparse.Namespace, path: Path
) -> Cell:
    """cProfile in the server during `--requests` requests at 16 concurrent, stats to `path`.

    The warm-up before is not profiled.
    """
    connector = aiohttp.TCPConnector(limit=PROFILED_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector) as session:
        warmup = Cell(workload.name, PROFILED_CONCURRENCY)
        await load(session, server, warmup, workload, args.warmup)
        await session.post(f"{server.base}/_bench/profile/start")
        cell = Cell(workload.name, PROFILED_CONCURRENCY)
        await load(session, server, cell, workload, args.requests)
        await session.post(f"{server.base}/_bench/profile/stop", params={"path": str(path)})
    return cell


def print_profile(cell: Cell, path: Path, unit: str, args: argparse.Namespace) -> None:
    """The `--top` functions of the event-loop thread by self time, per request.

    cProfile sees the event-loop thread only (not aiosqlite's thread, where SQLite runs), and
    SQLAlchemy's greenlet switches make its cumulative times meaningless: self times only.
    """
    per = 1000 / args.requests  # seconds in total -> ms per request
    raw: dict[Any, Any] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    rows = [
        (tottime, calls, f"{re.sub(r'.*/(site-packages|main)/', '', file)}:{line}({name})")
        for (file, line, name), (_cc, calls, tottime, _cum, _callers) in raw.items()
    ]
    loop_ms = sum(row[0] for row in rows) * per
    print(
        f"\n== {cell.scenario}, {cell.concurrency} concurrent, under cProfile: {cell.rate:,.0f} "
        f"{unit}, {cell.deferred} deferred, {len(cell.errors)} errors; event-loop thread "
        f"{loop_ms:.3f} ms per request (incl. epoll waits) -> {path}"
    )
    print(f"   {'self ms/req':>11} {'calls/req':>9}  function (top by self time)")
    for tottime, calls, where in sorted(rows, reverse=True)[: args.top]:
        print(f"   {tottime * per:>11.3f} {calls / args.requests:>9.1f}  {where}")


# -- main -------------------------------------------------------------------------------------


def concurrency_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def argument_parser(
    description: str, *, requests: int, warmup: int, concurrency: list[int], profile: str
) -> argparse.ArgumentParser:
    """The options both benches take, with their defaults; `profile`: what --profile does."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--requests", type=int, default=requests, help="measured, per cell")
    parser.add_argument("--warmup", type=int, default=warmup, help="unmeasured, per cell")
    parser.add_argument(
        "--concurrency",
        type=concurrency_list,
        default=concurrency,
        help=f"in flight, a cell each, comma-separated (default {','.join(map(str, concurrency))})",
    )
    parser.add_argument("--profile", metavar="DIR", help=profile)
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    return parser


def machine() -> str:
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"


@contextlib.contextmanager
def scratch() -> Iterator[tuple[Path, Path]]:
    """A temporary folder for the servers, and in it `source`: the folder target demo is."""
    with tempfile.TemporaryDirectory(prefix="exportbot-bench-") as temp:
        workdir = Path(temp)
        source = workdir / "source"
        source.mkdir()
        yield workdir, source


def profile_dir(args: argparse.Namespace) -> Path:
    """`--profile`'s folder, created if need be."""
    out = Path(args.profile)
    out.mkdir(parents=True, exist_ok=True)
    return out
