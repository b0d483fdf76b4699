"""Slack ack throughput and latency: a bare Bolt app versus `/export help` and `/export status`.

    python bench/slack_ack.py [--requests 1000] [--warmup 100] [--concurrency 1,16,64]
                              [--archive-mb 0] [--profile DIR]

Issue 4's done-criterion. The server under test runs alone in a child process (the bot is one
process in production, and the load generator must not share its event loop); this process
sends signed slash commands (v0 HMAC-SHA256, exactly as Slack signs them) over keep-alive
connections, `concurrency` requests in flight at a time, and times each one from send to the
last byte of the response. Scenarios, each on a fresh server and database:

- baseline: a bare Bolt `AsyncApp` mounted in aiohttp like ours, whose listener only acks;
- `/export help` and `/export status demo` on the real app (`bot.app.create_app`): every
  request is parsed, authorised, answered and audited (read-only commands through the
  group-committed audit writer) on SQLite, which is what we measure;
- `/export status demo` while an archive job of `demo` runs in the background (a generated
  tree of random and base64 data, sized from this machine's gzip speed to outlast the
  measurement; every answer must still say the target is busy with that job).

Each cell is a warm-up, then `--requests` requests. Counted apart: "deferred" answers (acked
with "Working on it…" because the command overran the ack budget; the real answer goes to the
stand-in's response_url) and errors (not 200, or an answer without the expected text). Aims:
help >= 0.75 x the baseline's req/s; status p99 < 50 ms at 16 concurrent; ack p99 < 100 ms
while the archive runs. `--profile DIR` instead runs cProfile in the server for the baseline
and for help at 16 concurrent, and prints where the event loop's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import cProfile
import json
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
import zlib
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.commands import ACK_BUDGET
from bot.app import create_app
from bot.config import Settings, TargetConfig
from bot.logs import configure_logging
from tests.adapters.slack_standin import TEAM, signed, slack_standin, slash_command

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-bench"
USER = "U0ADMIN"
HELP_AIM = 0.75  # help req/s / baseline req/s
STATUS_P99_AIM_MS = 50.0  # at 16 concurrent
ARCHIVE_ACK_P99_AIM_MS = 100.0
WORKING = "Working on it"  # the ack of an answer that will come through response_url
FILE_MB = 16  # size of each generated file in the archive tree


# -- the server, in its own process ---------------------------------------------------------


def baseline_app(api_url: str) -> web.Application:
    """What Bolt costs on its own: same construction and mounting as ours, the listener acks."""
    bolt = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=api_url),
        process_before_response=True,
    )

    @bolt.command("/export")
    async def _only_ack(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


def real_settings(workdir: Path, source: Path, api_url: str) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
        data_dir=str(workdir / "var"),
        admins=[f"slack:{TEAM}:{USER}"],
        slack_signing_secret=SECRET,  # type: ignore[arg-type]
        slack_bot_token=TOKEN,  # type: ignore[arg-type]
        slack_api_url=api_url,
        scheduler=False,
        shutdown_grace_seconds=1.0,
        link_secret="bench",  # type: ignore[arg-type]
        targets=[TargetConfig(name="demo", source=str(source), description="bench tree")],
    )


def server_main(kind: str, workdir: str, source: str, conn: Connection) -> None:
    """Child process entry: serve until the parent says stop (or goes away)."""
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

    async with slack_standin() as standin:
        if kind == "baseline":
            app = baseline_app(standin.api_url)
        else:
            app = create_app(real_settings(workdir, source, standin.api_url))
        app.router.add_post("/_bench/profile/{action}", profile)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        # A late answer (past the ack budget) goes to the stand-in's response_url.
        conn.send((runner.addresses[0][1], standin.response_url("bench")))
        with contextlib.suppress(EOFError):  # EOFError: the parent died
            await asyncio.to_thread(conn.recv)  # "stop"
        await runner.cleanup()
    with contextlib.suppress(OSError):
        conn.send("stopped")


class Server:
    """The server under test in a spawned process; `url` is its Slack endpoint."""

    def __init__(self, kind: str, workdir: Path, source: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=server_main, args=(kind, str(workdir), str(source), child), daemon=True
        )
        self._process.start()
        child.close()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError(f"the {kind} server did not start within 60 s")
        port, self.response_url = self._conn.recv()
        self.pid = self._process.pid
        self.base = f"http://127.0.0.1:{port}"
        self.url = f"{self.base}/slack/events"

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
    deferred: int = 0  # acked with "Working on it…": the answer missed the ack budget
    errors: list[str] = field(default_factory=list)  # not 200, or not the expected answer

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=100)[98] * 1000


async def post_command(session: aiohttp.ClientSession, server: Server, text: str) -> str:
    """One signed slash command; the text of the answer (`text` field when JSON)."""
    body = slash_command(text, user=USER, response_url=server.response_url)
    async with session.post(server.url, data=body, headers=signed(SECRET, body)) as response:
        answer = await response.text()
        if response.status != 200:
            raise RuntimeError(f"/export {text}: HTTP {response.status} {answer[:300]}")
    return str(json.loads(answer).get("text", "")) if answer else ""


async def load(
    session: aiohttp.ClientSession,
    server: Server,
    cell: Cell,
    text: str,
    count: int,
    expect: str,
) -> Cell:
    """`count` signed `/export <text>`, `cell.concurrency` in flight, recorded in `cell`."""
    body = slash_command(text, user=USER, response_url=server.response_url).encode()
    headers = signed(SECRET, body.decode())  # one timestamp: valid for 5 minutes
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            try:
                async with session.post(server.url, data=body, headers=headers) as response:
                    answer = await response.text()
                    status = response.status
            except aiohttp.ClientError as error:
                status, answer = 0, repr(error)
            cell.latencies.append(time.perf_counter() - started)
            if status == 200 and expect in answer:
                continue
            if status == 200 and WORKING in answer:
                cell.deferred += 1
            else:
                cell.errors.append(f"HTTP {status}: {answer[:160]!r}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(cell.concurrency)))
    cell.seconds = time.perf_counter() - started
    return cell


async def measure(
    scenario: str,
    server: Server,
    text: str,
    expect: str,
    concurrency: int,
    args: argparse.Namespace,
) -> Cell:
    connector = aiohttp.TCPConnector(limit=concurrency)  # keep-alive: one connection per slot
    async with aiohttp.ClientSession(connector=connector) as session:
        await load(session, server, Cell(scenario, concurrency), text, args.warmup, expect)
        cell = Cell(scenario, concurrency)
        return await load(session, server, cell, text, args.requests, expect)


def print_cell(cell: Cell) -> None:
    print(
        f"{cell.scenario:<34} {cell.concurrency:>5} {cell.rate:>9,.0f} {cell.p50_ms:>9.2f} "
        f"{cell.p99_ms:>9.2f} {cell.deferred:>9} {len(cell.errors):>7}",
        flush=True,
    )
    if cell.errors:
        print(f"    first error: {cell.errors[0]}", flush=True)


# -- the archive tree -------------------------------------------------------------------------


def chunk(index: int) -> bytes:
    """Two files in three are random (media), one is base64 text (compresses to ~3/4)."""
    if index % 3 == 2:
        return base64.b64encode(os.urandom(FILE_MB * 3 << 18))  # 16 MiB of base64
    return os.urandom(FILE_MB << 20)


def gzip_mb_per_s() -> float:
    """This machine's gzip -6 speed on the tree's mix of data, one thread, uncontended."""
    sample = b"".join(chunk(i)[: 4 << 20] for i in range(3))
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    started = time.perf_counter()
    for offset in range(0, len(sample), 1 << 20):
        compressor.compress(sample[offset : offset + (1 << 20)])
    compressor.flush()
    return len(sample) / 1e6 / (time.perf_counter() - started)


def build_tree(root: Path, megabytes: int) -> int:
    for index in range(max(1, megabytes // FILE_MB)):
        folder = root / f"dir{index // 16:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"part{index:04d}.bin").write_bytes(chunk(index))
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


# -- scenarios --------------------------------------------------------------------------------


async def run_scenario(
    kind: str,
    scenario: str,
    text: str,
    expect: str,
    args: argparse.Namespace,
    workdir: Path,
    source: Path,
) -> list[Cell]:
    folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=workdir))
    server = Server(kind, folder, source)
    try:
        cells = []
        for concurrency in args.concurrency:
            cell = await measure(scenario, server, text, expect, concurrency, args)
            print_cell(cell)
            cells.append(cell)
        return cells
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


async def running_job(session: aiohttp.ClientSession, server: Server) -> tuple[int, bool]:
    """The job archiving `demo`, started now with `/export run demo` if none is running.

    The job's own message goes to the channel through the Web API (the stand-in), not in the
    ack, so `/export status demo` is what tells its number.
    """
    busy = re.compile(r"busy with job #(\d+)")
    found = busy.search(await post_command(session, server, "status demo"))
    if found is not None:
        return int(found.group(1)), False
    await post_command(session, server, "run demo")
    for _ in range(100):
        found = busy.search(await post_command(session, server, "status demo"))
        if found is not None:
            return int(found.group(1)), True
        await asyncio.sleep(0.05)
    raise RuntimeError("/export run demo did not start a job within 5 s")


async def run_archive_scenario(
    args: argparse.Namespace, workdir: Path, source: Path, expected_seconds: float
) -> tuple[list[Cell], list[str]]:
    """`/export status demo` while `/export run demo` archives a tree sized to outlast it.

    Every answer must say "busy with job #N". Should the job end between two cells anyway
    (a slower machine), another is started and the notes say so.
    """
    notes: list[str] = []
    speed = gzip_mb_per_s()
    megabytes = args.archive_mb or int(min(6000, max(300, speed * expected_seconds * 1.5)))
    started = time.perf_counter()
    size = build_tree(source, megabytes)
    notes.append(
        f"archive tree: {size / 1e6:,.0f} MB in {size // (FILE_MB << 20)} files, written in "
        f"{time.perf_counter() - started:.1f} s; gzip -6 here: {speed:.0f} MB/s on one idle "
        f"core, so at least {size / 1e6 / speed:.0f} s of archiving"
    )
    folder = Path(tempfile.mkdtemp(prefix="archive-", dir=workdir))
    server = Server("real", folder, source)
    cells: list[Cell] = []
    try:
        async with aiohttp.ClientSession() as session:
            jobs = [(await running_job(session, server))[0]]
            launched = time.perf_counter()
            notes.append(f"job #{jobs[0]} started by a signed /export run demo")
            for concurrency in args.concurrency:
                if cells:
                    job, new = await running_job(session, server)
                    if new:
                        notes.append(f"job #{jobs[-1]} ended early; started job #{job}")
                        jobs.append(job)
                expect = f"busy with job #{jobs[-1]}"
                cell = await measure(
                    "status demo, archive running", server, "status demo", expect, concurrency, args
                )
                print_cell(cell)
                cells.append(cell)
            target = await post_command(session, server, "status demo")
        still = f"busy with job #{jobs[-1]}" in target
        lines = [line.strip() for line in target.splitlines() if line.strip()]
        notes.append(
            f"at the end, {time.perf_counter() - launched:.1f} s after the start: job #{jobs[-1]} "
            f"{'still running' if still else 'NO LONGER RUNNING'}: {' | '.join(lines[:6])}"
        )
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return cells, notes


def verdict(ok: bool) -> str:
    return "meets aim" if ok else "misses aim"


def print_aims(
    baseline: list[Cell], help_: list[Cell], status: list[Cell], archive: list[Cell]
) -> None:
    print()
    print(f"Aim 1: /export help req/s >= {HELP_AIM:.2f} x the baseline's")
    for base, cell in zip(baseline, help_, strict=True):
        ratio = cell.rate / base.rate
        print(
            f"  {cell.concurrency:>3} concurrent: {cell.rate:,.0f} / {base.rate:,.0f} = "
            f"{ratio:.2f} -> {verdict(ratio >= HELP_AIM)}"
        )
    print(f"Aim 2: /export status demo p99 < {STATUS_P99_AIM_MS:.0f} ms at 16 concurrent")
    for cell in status:
        ratio = cell.p99_ms / STATUS_P99_AIM_MS
        mark = verdict(ratio < 1) if cell.concurrency == 16 else "(for reference)"
        print(
            f"  {cell.concurrency:>3} concurrent: p99 {cell.p99_ms:.1f} ms = {ratio:.2f} x "
            f"the limit -> {mark}"
        )
    print(f"Aim 3: ack p99 < {ARCHIVE_ACK_P99_AIM_MS:.0f} ms while an archive job runs")
    for cell in archive:
        ratio = cell.p99_ms / ARCHIVE_ACK_P99_AIM_MS
        print(
            f"  {cell.concurrency:>3} concurrent: p99 {cell.p99_ms:.1f} ms = {ratio:.2f} x "
            f"the limit -> {verdict(ratio < 1)}"
        )
    cells = baseline + help_ + status + archive
    deferred = sum(c.deferred for c in cells)
    errors = sum(len(c.errors) for c in cells)
    print(
        f"Deferred (acked with “{WORKING}…” after the {ACK_BUDGET} s ack budget, answered "
        f"later through response_url): {deferred}"
    )
    print(f"Errors (not 200, or an answer without the expected text): {errors}")


# -- profile mode -----------------------------------------------------------------------------


async def profile(args: argparse.Namespace, workdir: Path, source: Path, out: Path) -> None:
    """cProfile in the server during `--requests` requests at 16 concurrent, per scenario.

    cProfile sees the event-loop thread only (not aiosqlite's thread, where SQLite runs), and
    SQLAlchemy's greenlet switches make its cumulative times meaningless: self times only.
    """
    for kind, text, expect in (("baseline", "help", ""), ("real", "help", "/export run")):
        folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=workdir))
        server = Server(kind, folder, source)
        path = out / f"{kind}-help-c16.prof"
        try:
            connector = aiohttp.TCPConnector(limit=16)
            async with aiohttp.ClientSession(connector=connector) as session:
                await load(session, server, Cell(kind, 16), text, args.warmup, expect)
                await session.post(f"{server.base}/_bench/profile/start")
                cell = await load(session, server, Cell(kind, 16), text, args.requests, expect)
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
            f"\n== {kind}: /export help, 16 concurrent, under cProfile: "
            f"{cell.rate:,.0f} req/s, {cell.deferred} deferred, {len(cell.errors)} errors; "
            f"event-loop thread "
            f"{loop_ms:.2f} ms per request (incl. epoll waits) -> {path}"
        )
        print(f"   {'self ms/req':>11} {'calls/req':>9}  function (top by self time)")
        for tottime, calls, where in sorted(rows, reverse=True)[: args.top]:
            print(f"   {tottime * per:>11.3f} {calls / args.requests:>9.1f}  {where}")


# -- main -------------------------------------------------------------------------------------


def concurrency_list(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


async def run_all(args: argparse.Namespace, workdir: Path, source: Path) -> None:
    print(
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} CPUs; server in its own process, load generator here; "
        f"{args.requests} requests per cell after {args.warmup} warm-up"
    )
    print(
        f"{'scenario':<34} {'conc':>5} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'deferred':>9} {'errors':>7}"
    )
    started = time.perf_counter()
    baseline = await run_scenario(
        "baseline", "baseline: bare Bolt, ack only", "help", "", args, workdir, source
    )
    help_ = await run_scenario("real", "/export help", "help", "/export run", args, workdir, source)
    before_status = time.perf_counter()
    status = await run_scenario(
        "real", "/export status demo", "status demo", "Target demo", args, workdir, source
    )
    status_seconds = time.perf_counter() - before_status
    archive, notes = await run_archive_scenario(args, workdir, source, status_seconds)
    for note in notes:
        print(f"  {note}")
    print_aims(baseline, help_, status, archive)
    print(f"Whole run: {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="measured, per cell")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured, per cell")
    parser.add_argument("--concurrency", type=concurrency_list, default=[1, 16, 64])
    parser.add_argument(
        "--archive-mb", type=int, default=0, help="archive tree size; 0 = sized to outlast"
    )
    parser.add_argument("--profile", metavar="DIR", help="profile help at 16 concurrent instead")
    parser.add_argument("--top", type=int, default=25, help="functions listed by --profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exportbot-bench-") as temp:
        workdir = Path(temp)
        source = workdir / "source"
        source.mkdir()
        if args.profile:
            out = Path(args.profile)
            out.mkdir(parents=True, exist_ok=True)
            asyncio.run(profile(args, workdir, source, out))
        else:
            asyncio.run(run_all(args, workdir, source))


if __name__ == "__main__":
    main()
