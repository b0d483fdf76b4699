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
and for help at 16 concurrent, and prints where the event loop's time goes. The machinery
shared with bench/discord_ack.py is in bench/ack_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import sys
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from ack_bench import (
    Cell,
    Request,
    Server,
    Table,
    argument_parser,
    machine,
    measure,
    print_counts,
    print_p99_aim,
    print_profile,
    print_rate_aim,
    profile_cell,
    profile_dir,
    scratch,
)
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.commands import ACK_BUDGET
from bot.app import create_app
from bot.config import Settings, TargetConfig
from tests.adapters.slack_standin import TEAM, signed, slack_standin, slash_command

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-bench"
USER = "U0ADMIN"
PATH = "/slack/events"
HELP_AIM = 0.75  # help req/s / baseline req/s
STATUS_P99_AIM_MS = 50.0  # at 16 concurrent
ARCHIVE_ACK_P99_AIM_MS = 100.0
WORKING = "Working on it"  # the ack of an answer that will come through response_url
FILE_MB = 16  # size of each generated file in the archive tree
TABLE = Table(width=34)


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
    app.router.add_post(PATH, events)
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


@contextlib.asynccontextmanager
async def open_app(
    kind: str, workdir: Path, source: Path
) -> AsyncIterator[tuple[web.Application, str]]:
    """In the server's process: the `kind` app against the Slack API stand-in, and (as
    `Server.info`) the stand-in's response_url, where an answer later than the ack budget goes.
    """
    async with slack_standin() as standin:
        if kind == "baseline":
            app = baseline_app(standin.api_url)
        else:
            app = create_app(real_settings(workdir, source, standin.api_url))
        yield app, standin.response_url("bench")


# -- the requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """`/export <text>` as Slack posts it; `expect` is in every right answer."""

    name: str
    text: str
    expect: str

    def requests(self, server: Server, count: int) -> Iterable[Request]:
        body = slash_command(self.text, user=USER, response_url=server.info)
        # One signature for the whole cell: its timestamp stays valid for 5 minutes.
        return itertools.repeat((body.encode(), signed(SECRET, body)), count)

    def deferred(self, answer: str) -> bool:
        return WORKING in answer


async def post_command(session: aiohttp.ClientSession, server: Server, text: str) -> str:
    """One signed slash command; the text of the answer (`text` field when JSON)."""
    body = slash_command(text, user=USER, response_url=server.info)
    async with session.post(server.url, data=body, headers=signed(SECRET, body)) as response:
        answer = await response.text()
        if response.status != 200:
            raise RuntimeError(f"/export {text}: HTTP {response.status} {answer[:300]}")
    return str(json.loads(answer).get("text", "")) if answer else ""


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
    kind: str, command: Command, args: argparse.Namespace, workdir: Path, source: Path
) -> list[Cell]:
    """`command` at each `--concurrency`, on a fresh `kind` server; every cell printed."""
    cells = []
    with Server(open_app, PATH, kind, workdir, source) as server:
        for concurrency in args.concurrency:
            cell = await measure(server, command, concurrency, args)
            TABLE.print_row(cell)
            cells.append(cell)
    return cells


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
    cells: list[Cell] = []
    with Server(open_app, PATH, "real", workdir, source) as server:
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
                command = Command("status demo, archive running", "status demo", expect)
                cell = await measure(server, command, concurrency, args)
                TABLE.print_row(cell)
                cells.append(cell)
            target = await post_command(session, server, "status demo")
        still = f"busy with job #{jobs[-1]}" in target
        lines = [line.strip() for line in target.splitlines() if line.strip()]
        notes.append(
            f"at the end, {time.perf_counter() - launched:.1f} s after the start: job #{jobs[-1]} "
            f"{'still running' if still else 'NO LONGER RUNNING'}: {' | '.join(lines[:6])}"
        )
    return cells, notes


def print_aims(
    baseline: list[Cell], help_: list[Cell], status: list[Cell], archive: list[Cell]
) -> None:
    print()
    print_rate_aim(
        f"Aim 1: /export help req/s >= {HELP_AIM:.2f} x the baseline's", baseline, help_, HELP_AIM
    )
    print_p99_aim(
        f"Aim 2: /export status demo p99 < {STATUS_P99_AIM_MS:.0f} ms at 16 concurrent",
        status,
        STATUS_P99_AIM_MS,
        at=16,
    )
    print_p99_aim(
        f"Aim 3: ack p99 < {ARCHIVE_ACK_P99_AIM_MS:.0f} ms while an archive job runs",
        archive,
        ARCHIVE_ACK_P99_AIM_MS,
    )
    print_counts(
        baseline + help_ + status + archive,
        f"acked with “{WORKING}…” after the {ACK_BUDGET} s ack budget, answered later through "
        "response_url",
    )


# -- profile mode -----------------------------------------------------------------------------


async def profile(args: argparse.Namespace, workdir: Path, source: Path, out: Path) -> None:
    """cProfile in the server for the baseline and for help (see `print_profile`)."""
    for kind, expect in (("baseline", ""), ("real", "/export run")):
        path = out / f"{kind}-help-c16.prof"
        with Server(open_app, PATH, kind, workdir, source) as server:
            command = Command(f"{kind}: /export help", "help", expect)
            cell = await profile_cell(server, command, args, path)
        print_profile(cell, path, "req/s", args)


# -- main -------------------------------------------------------------------------------------


async def run_all(args: argparse.Namespace, workdir: Path, source: Path) -> None:
    print(
        f"{machine()}; server in its own process, load generator here; "
        f"{args.requests} requests per cell after {args.warmup} warm-up"
    )
    TABLE.print_header()
    started = time.perf_counter()
    baseline = await run_scenario(
        "baseline", Command("baseline: bare Bolt, ack only", "help", ""), args, workdir, source
    )
    help_ = await run_scenario(
        "real", Command("/export help", "help", "/export run"), args, workdir, source
    )
    before_status = time.perf_counter()
    status = await run_scenario(
        "real", Command("/export status demo", "status demo", "Target demo"), args, workdir, source
    )
    status_seconds = time.perf_counter() - before_status
    archive, notes = await run_archive_scenario(args, workdir, source, status_seconds)
    for note in notes:
        print(f"  {note}")
    print_aims(baseline, help_, status, archive)
    print(f"Whole run: {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argument_parser(
        __doc__.splitlines()[0],
        requests=1000,
        warmup=100,
        concurrency=[1, 16, 64],
        profile="profile help at 16 concurrent instead",
    )
    parser.add_argument(
        "--archive-mb", type=int, default=0, help="archive tree size; 0 = sized to outlast"
    )
    args = parser.parse_args()
    with scratch() as (workdir, source):
        if args.profile:
            asyncio.run(profile(args, workdir, source, profile_dir(args)))
        else:
            asyncio.run(run_all(args, workdir, source))


if __name__ == "__main__":
    main()
