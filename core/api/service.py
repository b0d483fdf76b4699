"""What each call of the job-event API does: authenticate, check, change, audit (#16).

A call is refused (an `ApiProblem`, nothing written) or applied in one transaction with its
audit entry and, when a run ends, the job-ended event its alerts leave from. The signature of
every applied call is claimed in that transaction too, so the same request sent twice acts once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine, Mapping, MutableMapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from core.api.bodies import (
    FINISH_FIELDS,
    LOG_TAIL_MAX,
    PROGRESS_FIELDS,
    REPORT_FIELDS,
    START_FIELDS,
    FieldSpec,
    check,
    checksum_hex,
    end_state,
    parse_json,
)
from core.api.keys import ApiKey, fingerprint, printed_key, valid_name
from core.api.problems import ApiProblem
from core.api.runs import ProvisionedTarget, ReportedRun
from core.api.signature import (
    KEY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature_matches,
    timestamp_fresh,
)
from core.domain.audit import audit_entry
from core.domain.events import job_ended_event
from core.domain.model import (
    Actor,
    Job,
    JobState,
    NewJob,
    Origin,
    OriginKind,
    Outcome,
    Principal,
    TargetKind,
    TargetSpec,
)
from core.domain.quotas import check_thresholds
from core.errors import Conflict
from core.ports import AuditSink, Clock, UnitOfWork, UnitOfWorkFactory
from core.safety.redaction import redact
from core.safety.text import cut

log = logging.getLogger(__name__)

JobEnded = Callable[[Job], Coroutine[Any, Any, None]]
# What an alert shows of a log tail: its end, and short enough for every platform's field.
ALERT_TAIL_CHARS = 900
TOUCH_EVERY = timedelta(minutes=1)
INBOUND_PLATFORM = "api"  # the inbound log's namespace for the signatures already seen


class Operation(StrEnum):
    START = "start"
    PROGRESS = "progress"
    FINISH = "finish"
    REPORT = "report"


FIELDS: dict[Operation, dict[str, FieldSpec]] = {
    Operation.START: START_FIELDS,
    Operation.PROGRESS: PROGRESS_FIELDS,
    Operation.FINISH: FINISH_FIELDS,
    Operation.REPORT: REPORT_FIELDS,
}


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def request_id(path: str, signature: str) -> str:
    """What makes a call the same call again: its signature (timestamp and body) on the same
    operation, target and run. The contract signs no path, so two runs' identical progress
    bodies in the same second are two calls, not one replayed."""
    return hashlib.sha256(f"{path}\n{signature}".encode()).hexdigest()


def key_actor(name: str) -> Actor:
    """Who an API key is in the audit log: `api:<name>`."""
    return Actor(Principal("api", "", name), name)


def reported_target(name: str) -> TargetSpec:
    return TargetSpec(name=name, kind=TargetKind.REPORTED)


class ApiService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        targets: MutableMapping[str, TargetSpec],
        clock: Clock,
        master_key: Callable[[], bytes],
        *,
        audit_sink: AuditSink | None = None,
        job_ended: JobEnded | None = None,
    ) -> None:
        """`targets` is the bot's own mapping: a provisioned target joins it. `job_ended` is
        told of each run's end after its commit (the executor's listeners: chat cards, bounds,
        the dispatcher's wake-up)."""
        self._uow_factory = uow_factory
        self._targets = targets
        self._clock = clock
        self._master_key = master_key
        self._audit_sink = audit_sink
        self._job_ended = job_ended
        self._touched: dict[str, datetime] = {}  # when this process last recorded a key's use
        self._telling: set[asyncio.Task[None]] = set()

    async def handle(
        self,
        operation: Operation,
        target: str,
        rid: str | None,
        headers: Mapping[str, str],
        body: bytes,
    ) -> Answer:
        """Apply one call, or raise the ApiProblem refusing it (nothing written)."""
        path = f"{operation.value}/{target}/{rid or ''}"
        key, signature = await self.authenticate(headers, body)
        values = check(parse_json(body), FIELDS[operation])
        provision = self._check_target(key, target, operation)
        now = self._clock.now()
        async with self._uow_factory() as uow:
            if not await uow.inbound.claim(INBOUND_PLATFORM, request_id(path, signature), now):
                raise ApiProblem("replayed", "this exact request was already received")
            if provision:
                await uow.provisioned_targets.add(ProvisionedTarget(target, key.name, now))
            try:
                answer, ended = await self._apply(uow, operation, key, target, rid, values)
            except Conflict as busy:
                job = busy.params.get("job", "?")
                raise ApiProblem("target-busy", f"{target} has run #{job} under way") from None
            await self._touch(uow, key, now)
            await uow.commit()
        if provision:
            self._targets.setdefault(target, reported_target(target))
            log.info("target %s created by API key %s", target, key.name)
        if ended is not None and self._job_ended is not None:
            # Told after the answer: the chat cards and bounds need not hold the caller.
            task = asyncio.create_task(self._job_ended(ended))
            self._telling.add(task)
            task.add_done_callback(self._telling.discard)
        return answer

    async def idle(self) -> None:
        """Wait until every run's end has been told to the listeners."""
        while self._telling:
            await asyncio.wait(list(self._telling))

    async def _touch(self, uow: UnitOfWork, key: ApiKey, now: datetime) -> None:
        """Record the key's use at most once a minute from this process: concurrent calls of
        one key must not all queue on its row (on PostgreSQL, its lock until commit)."""
        last = self._touched.get(key.name)
        if last is None or now - last >= TOUCH_EVERY:
            self._touched[key.name] = now
            await uow.api_keys.touch(key.name, now)

    async def authenticate(self, headers: Mapping[str, str], body: bytes) -> tuple[ApiKey, str]:
        """The key that signed the request, and the signature (the request's identity)."""
        name = headers.get(KEY_HEADER, "")
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        given = headers.get(SIGNATURE_HEADER, "")
        if not (name and timestamp and given):
            raise ApiProblem(
                "unsigned", f"send {KEY_HEADER}, {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
            )
        if not timestamp_fresh(timestamp, self._clock.now().timestamp()):
            raise ApiProblem("stale", "the timestamp must be unix seconds within 5 minutes of now")
        key: ApiKey | None = None
        if valid_name(name):
            async with self._uow_factory(read_only=True) as uow:
                key = await uow.api_keys.get(name)
        try:
            master = self._master_key()
        except Exception:  # unreadable or damaged: the operator must act; the caller retries
            log.exception("the job-event API's master key cannot be read")
            raise ApiProblem("unavailable", "the server cannot check signatures now") from None
        # The same work whether the key exists or not: timing tells nothing of names.
        printed = printed_key(master, key.name if key else "?", key.nonce if key else "")
        known = key is not None and hmac.compare_digest(fingerprint(printed), key.fingerprint)
        if not signature_matches(printed, timestamp, body, given) or not known or key is None:
            raise ApiProblem("bad-signature", "check the key and sign '<timestamp>.<body>'")
        if key.revoked:
            raise ApiProblem("revoked", f"the key {key.name} was revoked; create another")
        return key, given

    def _check_target(self, key: ApiKey, target: str, operation: Operation) -> bool:
        """Whether the call creates the target; refuse it when the key may not report it."""
        if not key.allows(target):
            self._refused(key, target, "api.refused", "not among the key's targets")
            raise ApiProblem("forbidden-target", f"the key {key.name} may not report {target[:64]}")
        spec = self._targets.get(target)
        if spec is None:
            creates = operation in (Operation.START, Operation.REPORT)
            if key.may_create and creates and valid_name(target):  # a name a config could hold
                return True
            raise ApiProblem("unknown-target", f"there is no target {target[:64]}")
        if spec.kind.runs_here:
            raise ApiProblem(
                "not-reported",
                f"{target} is a {spec.kind.value} target that exportbot runs; "
                'report to a target of kind = "reported"',
            )
        return False

    def _refused(self, key: ApiKey, target: str, action: str, detail: str) -> None:
        if self._audit_sink is not None:  # outside the (rolled back) transaction
            entry = audit_entry(
                key_actor(key.name), self._clock, action, Outcome.REFUSED, target[:64], None, detail
            )
            self._audit_sink.append(entry)

    async def _apply(
        self,
        uow: UnitOfWork,
        operation: Operation,
        key: ApiKey,
        target: str,
        rid: str | None,
        values: dict[str, Any],
    ) -> tuple[Answer, Job | None]:
        if operation in (Operation.START, Operation.REPORT):
            job, run = await self._start(uow, key, target, values, operation)
            if operation is Operation.START:
                await self._audit(uow, key, "api.run.started", job, run)
                return Answer(201, _run_body(job, run)), None
            job, run = await self._end(uow, job, run, values)
            await self._audit(uow, key, "api.run.reported", job, run)
            return Answer(201, _run_body(job, run)), job
        found = await uow.reported_runs.get(target, rid or "")
        ended = await uow.jobs.get(found.job_id) if found is not None else None
        if found is None or ended is None:
            raise ApiProblem("unknown-run", f"{target} has no run {(rid or '')[:64]}")
        run, job = found, ended
        if job.state is not JobState.RUNNING:
            slug = "replayed" if operation is Operation.FINISH else "run-ended"
            raise ApiProblem(slug, f"run {run.rid} (#{job.id}) already ended: {job.state.value}")
        if operation is Operation.PROGRESS:
            run = replace(
                run,
                bytes_done=values.get("bytes", run.bytes_done),
                files_done=values.get("files", run.files_done),
                percent=values.get("percent", run.percent),
                updated_at=self._clock.now(),
            )
            # Kept on the run alone: the job's heartbeat is its worker's, and no worker of
            # ours watches a reported run (the executor's recovery leaves it alone).
            await uow.reported_runs.save(run)
            await self._audit(uow, key, "api.run.progress", job, run)
            return Answer(200, _run_body(job, run)), None
        # Two finishes racing (different bodies, so different signatures) both read the job
        # running; claiming the run's end lets one through, also across processes.
        if not await uow.inbound.claim(
            INBOUND_PLATFORM, f"end/{target}/{run.rid}", self._clock.now()
        ):
            raise ApiProblem("replayed", f"run {run.rid} (#{job.id}) is being finished already")
        job, run = await self._end(uow, job, run, values)
        await self._audit(uow, key, "api.run.finished", job, run)
        return Answer(200, _run_body(job, run)), job

    async def _start(
        self,
        uow: UnitOfWork,
        key: ApiKey,
        target: str,
        values: dict[str, Any],
        operation: Operation,
    ) -> tuple[Job, ReportedRun]:
        rid = values.get("rid")
        if rid is None:
            rid = secrets.token_hex(8)  # new by construction
        elif await uow.reported_runs.get(target, rid) is not None:
            raise ApiProblem("replayed", f"run {rid} of {target} was already reported")
        now = self._clock.now()
        duration = values.get("duration") if operation is Operation.REPORT else None
        began = now - timedelta(seconds=duration or 0)  # a one-shot report dates its start
        origin = Origin(OriginKind.API, "api", reference=key.name)
        job = await uow.jobs.add(NewJob(target, origin, None, key.name, began))
        job.transition(JobState.RUNNING, began)
        host = cut(redact(values.get("host", "")), 255)
        job.worker = host or None  # where it ran, as `worker` says for jobs run here
        await uow.jobs.save(job)
        run = ReportedRun(
            target,
            rid,
            job.id,
            key.name,
            host,
            cut(redact(values.get("command", "")), 2000),
            updated_at=now,
        )
        if not await uow.reported_runs.add(run):  # the same rid started at this very moment
            raise ApiProblem("replayed", f"run {rid} of {target} was already reported")
        return job, run

    async def _end(
        self,
        uow: UnitOfWork,
        job: Job,
        run: ReportedRun,
        values: dict[str, Any],
    ) -> tuple[Job, ReportedRun]:
        state_name, exit_status = end_state(values)
        now = self._clock.now()
        state = JobState(state_name)
        job.transition(state, now)
        job.size_bytes = values.get("size")
        job.file_count = values.get("files")
        job.sha256 = checksum_hex(values.get("checksum"))
        archive = values.get("archive")
        job.archive_path = cut(redact(archive), 2000) if archive else None
        if state is JobState.FAILED:
            job.error = f"exit status {exit_status}" if exit_status is not None else "failed"
        tail = redact(values.get("log_tail", ""))[-LOG_TAIL_MAX:]
        run = replace(run, log_tail=tail, updated_at=now)
        await uow.jobs.save(job)
        await uow.reported_runs.save(run)
        spec = self._targets.get(job.target) or reported_target(job.target)
        if job.size_bytes is not None and state is JobState.SUCCEEDED:
            # The tool keeps its own retention: its usage is what its last archive weighs.
            usage = await uow.quotas.reset(job.target, spec.quota.storage, job.size_bytes, 1, now)
            await check_thresholds(uow, usage, spec.quota, now)
        event = job_ended_event(job)
        if tail:
            event.payload["log_tail"] = tail[-ALERT_TAIL_CHARS:]
        await uow.outbox.add(event)
        return job, run

    async def _audit(
        self, uow: UnitOfWork, key: ApiKey, action: str, job: Job, run: ReportedRun
    ) -> None:
        """In the call's transaction: an accepted call and its audit entry stand or fall
        together."""
        detail = f"run {run.rid}, host {run.host or '—'}, {job.state.value}"
        if job.error:
            detail += f": {job.error}"
        entry = audit_entry(
            key_actor(key.name), self._clock, action, Outcome.OK, job.target, job.id, detail
        )
        await uow.audit.append(entry)


def _run_body(job: Job, run: ReportedRun) -> dict[str, Any]:
    return {"job": job.id, "rid": run.rid, "target": job.target, "state": job.state.value}
