"""Prometheus metrics (H4): the core's `Telemetry` port made into prometheus-client metrics,
and what `GET /metrics` serves.

Each bot has a `CollectorRegistry` of its own, not the library's global one: tests start many
bots in one process, and each must count only its own.

Counters and histograms are fed as things happen (the core calls the port). What is a state
of the database — jobs queued or running, deliveries waiting — is read when Prometheus
scrapes (`refresh`): one small query each, exact whichever process did the work, and nothing
to keep in step between processes sharing the database.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from core.domain.model import ACTIVE_STATES
from core.ports import UnitOfWorkFactory
from core.support.telemetry import Telemetry

CONTENT_TYPE = CONTENT_TYPE_LATEST
# An ack must leave within Slack's 3 s; the buckets are finest below it.
ACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0)
JOB_BUCKETS = (1, 5, 15, 60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600)
SIZE_BUCKETS = tuple(float(2**power) for power in range(20, 41, 2))  # 1 MiB … 1 TiB
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class PrometheusTelemetry(Telemetry):
    def __init__(self, targets: Iterable[str] = ()) -> None:
        """`targets`: the configured ones, whose active-jobs series exist (at 0) from the
        first scrape."""
        self.registry = CollectorRegistry(auto_describe=True)
        self._targets = tuple(targets)
        self._queued_platforms: set[str] = set()
        r = self.registry
        self.commands = Counter(
            "exportbot_commands",
            "Commands and button presses answered, by verb, platform and outcome.",
            ["verb", "platform", "outcome"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "exportbot_ack_seconds",
            "Time from a platform's request received to its HTTP answer (the ack).",
            ["platform"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.jobs_finished = Counter(
            "exportbot_jobs_finished",
            "Jobs that reached a final state, by target and state.",
            ["target", "state"],
            registry=r,
        )
        self.jobs_active = Gauge(
            "exportbot_jobs_active",
            "Jobs queued or running now, by target and state (read from the database).",
            ["target", "state"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "exportbot_job_duration_seconds",
            "How long finished jobs ran, by target.",
            ["target"],
            buckets=JOB_BUCKETS,
            registry=r,
        )
        self.archive_bytes = Histogram(
            "exportbot_job_archive_size_bytes",
            "Size of the archives jobs made, by target.",
            ["target"],
            buckets=SIZE_BUCKETS,
            registry=r,
        )
        self.outbox_depth = Gauge(
            "exportbot_outbox_pending_deliveries",
            "Deliveries (alerts, private messages) waiting to be sent, per platform.",
            ["platform"],
            registry=r,
        )
        self.delivery_seconds = Histogram(
            "exportbot_delivery_latency_seconds",
            "Time from an event's creation to its delivery, per platform.",
            ["platform"],
            buckets=DELIVERY_BUCKETS,
            registry=r,
        )
        self.rate_limits = Counter(
            "exportbot_delivery_rate_limited",
            "Deliveries a platform answered with 429 (too many requests), per platform.",
            ["platform"],
            registry=r,
        )
        self.dead_letters = Counter(
            "exportbot_delivery_dead_letters",
            "Deliveries given up on (dead letters), per platform.",
            ["platform"],
            registry=r,
        )
        self.leader = Gauge(
            "exportbot_scheduler_leader",
            "1 while this process runs the schedules, else 0.",
            registry=r,
        )

    # -- the port ------------------------------------------------------------------------

    def command_handled(self, verb: str, platform: str, outcome: str) -> None:
        self.commands.labels(verb, platform, outcome).inc()

    def acked(self, platform: str, seconds: float) -> None:
        self.ack_seconds.labels(platform).observe(seconds)

    def job_ended(
        self, target: str, state: str, seconds: float | None, size_bytes: int | None
    ) -> None:
        self.jobs_finished.labels(target, state).inc()
        if seconds is not None:
            self.job_seconds.labels(target).observe(seconds)
        if size_bytes is not None:
            self.archive_bytes.labels(target).observe(size_bytes)

    def delivered(self, platform: str, seconds: float) -> None:
        self.delivery_seconds.labels(platform).observe(max(seconds, 0.0))

    def rate_limited(self, platform: str) -> None:
        self.rate_limits.labels(platform).inc()

    def dead_letter(self, platform: str) -> None:
        self.dead_letters.labels(platform).inc()

    def scheduler_leader(self, leading: bool) -> None:
        self.leader.set(1 if leading else 0)

    # -- a scrape ------------------------------------------------------------------------

    async def refresh(self, uow_factory: UnitOfWorkFactory) -> None:
        """Read the states kept in the database: active jobs, waiting deliveries."""
        async with uow_factory(read_only=True) as uow:
            active = await uow.jobs.in_states(ACTIVE_STATES)  # at most one per target
            pending = await uow.deliveries.pending_by_platform()
        counts = Tally((job.target, job.state.value) for job in active)
        self.jobs_active.clear()  # a target removed from the configuration leaves no series
        for target in self._targets:
            for active_state in ACTIVE_STATES:
                self.jobs_active.labels(target, active_state.value).set(0)
        for (target, state), count in counts.items():
            self.jobs_active.labels(target, state).set(count)
        # A platform whose queue emptied shows 0 rather than vanishing from the graphs.
        self._queued_platforms |= set(pending)
        for platform in self._queued_platforms:
            self.outbox_depth.labels(platform).set(pending.get(platform, 0))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
