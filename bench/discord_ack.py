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
loop's time goes. The machinery shared with bench/slack_ack.py is in bench/ack_bench.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ack_bench import (
    DISTURBED,
    Cell,
    Request,
    Server,
    Table,
    argument_parser,
    machine,
    measure,
    placement,
    print_counts,
    print_p99_aim,
    print_profile,
    print_rate_aim,
    profile_cell,
    profile_dir,
    scratch,
)
from aiohttp import web

from adapters.discord.adapter import ANSWER_WITHIN
from adapters.discord.commands import option_name
from adapters.discord.verify import InteractionVerifier
from bot.app import create_app
from bot.config import TargetConfig
from tests.adapters.discord_harness import PUBLIC_KEY, SIGNING_KEY, harness_settings
from tests.adapters.discord_standin import discord_standin, signed_interaction, slash_command

HELP_AIM = 0.75  # help interactions/s / baseline interactions/s
STATUS_P99_AIM_MS = 50.0  # at 16 concurrent
DEFERRED = '{"type": 5'  # the answer of a command that overran ANSWER_WITHIN
PATH = "/discord/interactions"
TABLE = Table(width=24, cpu=True)


@dataclass(frozen=True)
class Scenario:
    kind: str  # "baseline" or "real": which server
    name: str
    command: str  # the /export subcommand
    options: dict[str, str]
    expect: str  # in every right answer

    def requests(self, server: Server, count: int) -> list[Request]:
        """`count` interactions, each with a fresh id and token, signed now."""
        return [
            signed_interaction(SIGNING_KEY, slash_command(self.command, self.options))
            for _ in range(count)
        ]

    def deferred(self, answer: str) -> bool:
        return answer.startswith(DEFERRED)


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


@contextlib.asynccontextmanager
async def open_app(
    kind: str, workdir: Path, source: Path
) -> AsyncIterator[tuple[web.Application, None]]:
    """In the server's process: the `kind` app, the real one against the Discord API stand-in."""
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
        yield app, None


# -- scenarios --------------------------------------------------------------------------------


async def run_rounds(
    args: argparse.Namespace, workdir: Path, source: Path, cpus: list[int]
) -> list[list[Cell]]:
    """Every scenario's cells, round after round; per scenario, one list of cells."""
    cells: list[list[Cell]] = [[] for _ in SCENARIOS]
    with contextlib.ExitStack() as stack:
        servers = [
            stack.enter_context(Server(open_app, PATH, scenario.kind, workdir, source, cpus))
            for scenario in SCENARIOS
        ]
        for round_ in range(1, args.rounds + 1):
            for scenario, server, done in zip(SCENARIOS, servers, cells, strict=True):
                for concurrency in args.concurrency:
                    cell = await measure(server, scenario, concurrency, args)
                    cell.round = round_
                    TABLE.print_row(cell)
                    done.append(cell)
    return cells


def least_disturbed(cells: list[Cell], concurrency: list[int]) -> list[Cell]:
    """Per concurrency, the round with the highest interactions/s."""
    return [
        max((c for c in cells if c.concurrency == n), key=lambda c: c.rate) for n in concurrency
    ]


def print_aims(
    baseline: list[Cell], help_: list[Cell], status: list[Cell], every: list[Cell]
) -> None:
    print()
    print_rate_aim(
        f"Aim 1: /export help interactions/s >= {HELP_AIM:.2f} x the baseline's",
        baseline,
        help_,
        HELP_AIM,
        at=16,
    )
    print_p99_aim(
        f"Aim 2: /export status demo p99 < {STATUS_P99_AIM_MS:.0f} ms at 16 concurrent",
        status,
        STATUS_P99_AIM_MS,
        at=16,
    )
    print_counts(
        every,
        f"answered type 5 after the {ANSWER_WITHIN} s answer budget, the real answer through "
        "the interaction's webhook",
    )
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
    """cProfile in the server for each scenario (see `print_profile`)."""
    for scenario in SCENARIOS:
        path = out / f"{scenario.kind}-{scenario.command}-c16.prof"
        with Server(open_app, PATH, scenario.kind, workdir, source, cpus) as server:
            cell = await profile_cell(server, scenario, args, path)
        print_profile(cell, path, "interactions/s", args)


# -- main -------------------------------------------------------------------------------------


async def run_all(
    args: argparse.Namespace, workdir: Path, source: Path, cpus: list[int], placed: str
) -> None:
    print(
        f"{machine()} (load average {os.getloadavg()[0]:.2f} before the run); "
        f"{placed}; {args.requests} requests per cell after {args.warmup} warm-up, all signed "
        "before the timed loop; srv/gen CPU: CPU time used by the server / load generator "
        "over the cell's time (100% = one core)"
    )
    TABLE.print_header()
    started = time.perf_counter()
    cells = await run_rounds(args, workdir, source, cpus)
    baseline, help_, status = [least_disturbed(group, args.concurrency) for group in cells]
    print(f"\nLeast disturbed of {args.rounds} rounds (highest req/s), what the aims judge:")
    TABLE.print_header()
    for cell in baseline + help_ + status:
        TABLE.print_row(cell)
    print_aims(baseline, help_, status, [cell for group in cells for cell in group])
    print(f"Whole run: {time.perf_counter() - started:.0f} s")


def main() -> None:
    parser = argument_parser(
        __doc__.splitlines()[0],
        requests=5000,
        warmup=500,
        concurrency=[16],
        profile="profile each scenario instead",
    )
    parser.add_argument("--rounds", type=int, default=3, help="of every scenario, interleaved")
    parser.add_argument(
        "--no-pin", dest="pin", action="store_false", help="let the scheduler place processes"
    )
    args = parser.parse_args()
    cpus, placed = placement(args.pin)
    with scratch() as (workdir, source):
        (source / "readme.txt").write_text("a target to ask the status of\n")
        if args.profile:
            asyncio.run(profile(args, workdir, source, cpus, profile_dir(args)))
        else:
            asyncio.run(run_all(args, workdir, source, cpus, placed))


if __name__ == "__main__":
    main()
