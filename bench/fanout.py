"""Alert fan-out: delivered alerts/s and latency from outbox write to Slack, beside the most
the Slack stand-in permits.

    python bench/fanout.py [--channels 500] [--alerts-per-channel 20] [--database-url URL]

Every channel subscribes to every alert of every target; then `--alerts-per-channel` outbox
events (RUN_MISSED, each naming its own target) are written, one transaction each, and each
commit time is kept. Only then does a real `Dispatcher` start (its claim loop, per-channel
workers, pacer and batched outcome writes), with the real `SlackSender` on an `AsyncWebClient`
made as the bot makes it, against the Slack Web API stand-in (tests/adapters/slack_standin.py)
in a process of its own (Slack is not in the bot's process either), which answers 429 to a
second post in a channel within 0.95 s. Each receipt
at the stand-in is matched to its event by the target the alert's text names. Grouping and
digests are off (`group_window=0`, `digest_per_minute=0`): each alert is one top-level post.

The stand-in permits channels / 0.95 s posts per second, so after each channel's first post
the run cannot be shorter than (alerts-per-channel - 1) x 0.95 s. Achieved rate: the posts
after each channel's first, over first post -> last post, which makes the ratio to the
permitted maximum that minimum duration over the actual one (aim: >= 0.9). Latency runs from
the event's commit to its receipt, so it includes the wait behind the earlier alerts of the
same channel: the k-th alert of a channel cannot arrive before (k - 1) x 0.95 s; that floor
is printed beside it. Also printed, to tell where time went: the gaps between consecutive
posts in a channel (the pacer's 1 message/s shows as 1.00 s; more is time the dispatcher
lost), how far apart the channels' first posts are, each post's round trip from the bucket's
token to Slack's answer (a 429 follows when two round trips differ by more than the 50 ms
between the pacer's 1.00 s and the stand-in's 0.95 s), this process's CPU time over the
delivery (the bot's alone: the stand-in runs in its own process) and peak RSS.

Storage: a fresh SQLite file, or, with `--database-url`, a scratch database created on that
PostgreSQL server and dropped afterwards. Nothing is logged below WARNING.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import math
import multiprocessing
import re
import resource
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.slack.sender import SlackSender
from bot.bootstrap import PLATFORMS
from bot.logs import configure_logging
from core.clock import SystemClock
from core.delivery.dispatcher import Dispatcher
from core.delivery.pacing import Pacer
from core.delivery.sender_keys import SenderKey
from core.delivery.senders import MessageRef
from core.domain.events import EventKind, OutboxEvent
from core.domain.subscriptions import AlertKind, Destination, Severity, Subscription
from core.views.alerts import AlertSettings
from core.views.message import Message
from storage import SqlUnitOfWorkFactory, create_engine, open_engine
from storage.migrate import ensure_schema
from tests.adapters.slack_standin import TEAM, slack_standin

AIM = 0.9  # achieved / permitted alerts/s
TARGET = "bench-{:04d}"  # one target per event: the alert's text names it
TARGET_IN_TEXT = re.compile(r"\bbench-(\d{4})\b")
SETTLE_WAIT = 30.0  # seconds to wait, after the last receipt, for outcomes to be written


class TimedSlackSender(SlackSender):
    """The real sender, timing each post from the moment the dispatcher calls it (just after
    it took the channel's token) to Slack's answer, 429s included."""

    def __init__(self, client: AsyncWebClient) -> None:
        super().__init__(client)
        self.round_trips: list[float] = []

    async def post(self, channel: str, message: Message, *, key: str = "") -> MessageRef:
        start = time.monotonic()
        try:
            return await super().post(channel, message, key=key)
        finally:
            self.round_trips.append(time.monotonic() - start)


@dataclass
class Result:
    channels: int
    per_channel: int
    interval: float  # the stand-in's channel_interval
    written: list[float]  # event index → monotonic commit time
    received: list[tuple[str, float, str]]  # the stand-in's: channel, monotonic time, text
    limited: int
    round_trips: list[float]
    storage: str
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    sent_rows: int = 0
    timed_out: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return self.channels * self.per_channel


@contextlib.asynccontextmanager
async def scratch_database(url: str | None) -> AsyncIterator[str]:
    """A fresh SQLite file, or a scratch database on the PostgreSQL server of `url`."""
    if not url:
        with tempfile.TemporaryDirectory(prefix="exportbot-fanout-") as temp:
            yield f"sqlite+aiosqlite:///{Path(temp) / 'bench.db'}"
        return
    server, _, _ = url.rpartition("/")
    name = f"exportbot_fanout_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield f"{server}/{name}"
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        await admin.dispose()


async def run(channels: int, per_channel: int, database_url: str | None) -> Result:
    settings = AlertSettings(
        "https://bot.example.org",
        b"bench-link-secret",
        group_window=timedelta(0),  # every alert a top-level post, no thread replies
        digest_per_minute=0,  # no digests
    )
    clock = SystemClock()
    async with scratch_database(database_url) as url, open_engine(url) as engine:
        await ensure_schema(engine)
        uow_factory = SqlUnitOfWorkFactory(engine)
        await subscribe(uow_factory, clock, channels)
        async with remote_standin() as standin:
            written = await write_events(uow_factory, clock, per_channel)
            # As SlackAdapter makes it: one shared connection pool.
            session = aiohttp.ClientSession()
            client = AsyncWebClient(
                token="xoxb-bench", base_url=standin.api_url, session=session, retry_handlers=[]
            )
            sender = TimedSlackSender(client)
            dispatcher = Dispatcher(
                uow_factory,
                clock,
                {SenderKey("slack", TEAM): sender},
                settings,
                platforms=PLATFORMS,
                pacer=Pacer(PLATFORMS.paces()),
            )
            storage = "PostgreSQL" if database_url else "SQLite"
            result = Result(
                channels, per_channel, standin.channel_interval, written, [], 0, [], storage
            )
            deadline = 30 + 8 * (per_channel - 1) * standin.channel_interval
            cpu, wall = _cpu(), time.monotonic()
            async with session, dispatcher:
                dispatcher.wake()
                result.timed_out = not await sent_rows(engine, result.expected, deadline)
                result.cpu_seconds, result.wall_seconds = _cpu() - cpu, time.monotonic() - wall
                try:
                    async with asyncio.timeout(SETTLE_WAIT):
                        while dispatcher.busy:  # noqa: ASYNC110 - no event tells "idle"
                            await asyncio.sleep(0.02)
                except TimeoutError:
                    result.notes.append(f"still sending or settling {SETTLE_WAIT:.0f} s later")
            await asyncio.sleep(0.5)  # a duplicate post would arrive by now
            if result.timed_out:
                result.notes.append(f"gave up waiting after {deadline:.0f} s")
            result.received, result.limited = await standin.results()
            result.round_trips = sender.round_trips
        async with engine.connect() as connection:
            sent = await connection.scalar(
                text("SELECT count(*) FROM deliveries WHERE state = 'sent'")
            )
        result.sent_rows = int(sent or 0)
        return result


async def subscribe(uow_factory: SqlUnitOfWorkFactory, clock: SystemClock, channels: int) -> None:
    async with uow_factory() as uow:
        now = clock.now()
        for index in range(channels):
            await uow.subscriptions.save(
                Subscription(
                    Destination("slack", TEAM, f"C{index:08d}"),
                    "*",
                    frozenset(AlertKind),
                    Severity.INFO,
                    "bench",
                    now,
                )
            )
        await uow.commit()


async def write_events(
    uow_factory: SqlUnitOfWorkFactory, clock: SystemClock, count: int
) -> list[float]:
    """One outbox event per transaction; returns each one's commit time (monotonic)."""
    written: list[float] = []
    for index in range(count):
        async with uow_factory() as uow:
            fire_time = (clock.now() - timedelta(hours=1)).isoformat(timespec="seconds")
            event = OutboxEvent(
                EventKind.RUN_MISSED, TARGET.format(index), clock.now(), {"fire_time": fire_time}
            )
            await uow.outbox.add(event)
            await uow.commit()
        written.append(time.monotonic())
    return written


async def sent_rows(engine: AsyncEngine, count: int, deadline: float) -> bool:
    """Wait until `count` deliveries are recorded sent; False if `deadline` s pass first.
    (They are recorded a moment after Slack received them.)"""
    try:
        async with asyncio.timeout(deadline):
            while True:
                async with engine.connect() as connection:
                    sent = await connection.scalar(
                        text("SELECT count(*) FROM deliveries WHERE state = 'sent'")
                    )
                if int(sent or 0) >= count:
                    return True
                await asyncio.sleep(0.1)
    except TimeoutError:
        return False


@dataclass
class RemoteStandIn:
    """The Slack stand-in, served by a child process, over a pipe."""

    api_url: str
    channel_interval: float
    _conn: Connection

    async def results(self) -> tuple[list[tuple[str, float, str]], int]:
        """What it received (channel, monotonic time: the same clock in every process on
        Linux, text) and how many 429s it answered."""
        self._conn.send("stop")
        received, limited = await asyncio.to_thread(self._conn.recv)
        return received, limited


@contextlib.asynccontextmanager
async def remote_standin() -> AsyncIterator[RemoteStandIn]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=_serve_standin, args=(theirs,), daemon=True)
    child.start()
    try:
        api_url, interval = await asyncio.to_thread(ours.recv)
        yield RemoteStandIn(api_url, interval, ours)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


def _serve_standin(conn: Connection) -> None:
    async def serve() -> None:
        async with slack_standin() as standin:
            standin.enforce_channel_rate = True
            conn.send((standin.api_url, standin.channel_interval))
            await asyncio.to_thread(conn.recv)  # "stop"
            conn.send((list(standin.received_at), standin.limited))

    configure_logging("WARNING", "text")
    asyncio.run(serve())


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _spread(values: list[float], unit: str = "s", digits: int = 2) -> str:
    if not values:
        return "-"
    points = (min(values), _pct(values, 0.5), _pct(values, 0.99), max(values))
    return " / ".join(f"{v:.{digits}f}" for v in points) + f" {unit}"


def report(result: Result) -> bool:
    """Print the table; True when the aim is met and every alert arrived once, in order."""
    interval = result.interval
    latencies: list[float] = []
    by_channel: dict[str, list[tuple[float, int]]] = defaultdict(list)
    unmatched = 0
    for channel, at, message in result.received:
        found = TARGET_IN_TEXT.search(message)
        if found is None or int(found.group(1)) >= len(result.written):
            unmatched += 1
            continue
        event = int(found.group(1))
        latencies.append(at - result.written[event])
        by_channel[channel].append((at, event))
    gaps: list[float] = []
    out_of_order = duplicates = 0
    for posts in by_channel.values():
        posts.sort()
        events = [event for _, event in posts]
        duplicates += len(events) - len(set(events))
        out_of_order += sum(1 for a, b in itertools.pairwise(events) if b < a)
        gaps.extend(b - a for (a, _), (b, _) in itertools.pairwise(posts))
    # The floor: the k-th alert of a channel arrives (k - 1) intervals after the first at best.
    floor = [k * interval for k in range(result.per_channel)]
    permitted = result.channels / interval
    received = len(result.received)

    print(
        f"{result.channels} channels x {result.per_channel} alerts = {result.expected:,} "
        f"deliveries, on {result.storage}"
    )
    print(
        "grouping off (group_window=0) and digests off (digest_per_minute=0): "
        "each alert is one top-level post"
    )
    print(
        f"stand-in: 429 to a 2nd post within {interval:.2f} s in a channel -> permitted max "
        f"{permitted:,.1f} alerts/s; shortest run after the first post "
        f"{(result.per_channel - 1) * interval:.2f} s"
    )
    rows: list[tuple[str, str]] = [
        ("received (rows marked sent)", f"{received:,} ({result.sent_rows:,})"),
    ]
    ratio = 0.0
    if received:
        times = [at for _, at, _ in result.received]
        first, last = min(times), max(times)
        span = last - first
        achieved = (received - len(by_channel)) / span if span > 0 else 0.0
        ratio = achieved / permitted
        firsts = [posts[0][0] for posts in by_channel.values()]
        rows += [
            ("429 answers", f"{result.limited:,}"),
            ("unmatched / duplicate / out of order", f"{unmatched}/{duplicates}/{out_of_order}"),
            ("last outbox write -> first post", f"{first - result.written[-1]:.2f} s"),
            ("first post -> last post", f"{span:.2f} s"),
            ("achieved alerts/s (after each channel's 1st)", f"{achieved:,.1f}"),
            ("permitted max alerts/s", f"{permitted:,.1f}"),
            (f"ratio achieved / permitted (aim >= {AIM})", f"{ratio:.3f}"),
            (
                "alerts/s from 1st write to last post",
                f"{received / (last - result.written[0]):,.1f}",
            ),
            (
                "latency write -> receipt p50 / p99 / max",
                f"{_pct(latencies, 0.5):.2f} / {_pct(latencies, 0.99):.2f} / "
                f"{max(latencies):.2f} s",
            ),
            (
                "  its floor (k-th alert: (k-1) x interval)",
                f"{_pct(floor, 0.5):.2f} / {_pct(floor, 0.99):.2f} / {max(floor):.2f} s",
            ),
            ("gap between posts in a channel min/p50/p99/max", _spread(gaps, digits=3)),
            ("first posts of the channels spread over", f"{max(firsts) - min(firsts):.2f} s"),
        ]
    rows += [
        (
            f"post round trip min/p50/p99/max ({len(result.round_trips):,} posts)",
            _spread([1000 * t for t in result.round_trips], "ms", 0),
        ),
        (
            "process CPU during delivery",
            f"{result.cpu_seconds:.1f} s in {result.wall_seconds:.1f} s "
            f"({result.cpu_seconds / max(result.wall_seconds, 1e-9):.0%} of one core)",
        ),
        ("peak RSS", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    for note in result.notes:
        print(f"  note: {note}")
    correct = (
        received == result.sent_rows == result.expected
        and result.limited == 0
        and unmatched == duplicates == out_of_order == 0
    )
    print(
        f"aim (>= {AIM} of the permitted rate, every alert once, in order, no 429): "
        + ("meets aim" if ratio >= AIM and correct else "misses aim")
    )
    return ratio >= AIM and correct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=500)
    parser.add_argument("--alerts-per-channel", type=int, default=20)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL URL whose server gets a scratch database (default: SQLite)",
    )
    args = parser.parse_args()
    if args.channels < 1 or not 2 <= args.alerts_per_channel <= 9999:
        parser.error("at least 1 channel, and 2 to 9999 alerts per channel")
    configure_logging("WARNING")
    report(asyncio.run(run(args.channels, args.alerts_per_channel, args.database_url)))


if __name__ == "__main__":
    main()
