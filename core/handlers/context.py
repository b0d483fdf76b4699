"""What every handler receives: unit of work, actor, catalog, clock, targets, job control."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from core.commands.suggest import suggest
from core.domain.audit import audit_entry
from core.domain.model import Actor, Job, Outcome, Principal, TargetSpec
from core.errors import NotFound
from core.exclusions.service import PreviewRequest
from core.exports.spec import ExportSpec
from core.i18n import Translator
from core.jobs.runners.base import Progress
from core.ports import Charts, Clock, UnitOfWork
from core.safety.links import PageLinks
from core.views.message import Message

DEFAULT_DRAFT_TTL = timedelta(days=7)


class JobControl(Protocol):
    """What handlers need from the executor; called only after the commit."""

    def launch(self, job_id: int) -> None: ...

    def request_cancel(self, job_id: int) -> bool: ...

    def progress_of(self, job_id: int) -> Progress | None:
        """How far a job running in this process is; None elsewhere or before its start."""
        ...


class ExportLauncher(Protocol):
    """Starts an `audit` export in the background (core/exports/service.py)."""

    def start(self, spec: ExportSpec, actor: Actor) -> object: ...

    def reaches(self, actor: Actor) -> bool: ...


class PreviewLauncher(Protocol):
    """Starts an `exclude` preview in the background (core/exclusions/service.py)."""

    def start(self, request: PreviewRequest, actor: Actor) -> object: ...

    def reaches(self, actor: Actor) -> bool: ...

    def busy(self, target: str) -> bool: ...


@dataclass
class Context:
    uow: UnitOfWork
    actor: Actor
    t: Translator
    clock: Clock
    targets: Mapping[str, TargetSpec]
    jobs: JobControl
    prefix: str = ""
    draft_ttl: timedelta = DEFAULT_DRAFT_TTL
    # Called after a commit that activated a schedule (the scheduler re-reads its table).
    schedule_listeners: Sequence[Callable[[], object]] = ()
    # Called after a commit that changed a draft people may have a card of: the draft's id,
    # and the message pressed to change it (`"<channel>:<id>"`, "" for none), already redrawn.
    draft_listeners: Sequence[Callable[[int, str], object]] = ()
    pressed: str = ""
    # Webhooks may go to loopback and private networks (on-premises receivers, tests).
    webhook_allow_private: bool = False
    after_commit: list[Callable[[], object]] = field(default_factory=list)
    # Whether the bot serves a principal's workspace (CommandService.serves_principal).
    serves: Callable[[Principal], bool] = lambda principal: True
    # Draws `stats` charts and signs their links; None: `stats` answers in words alone.
    charts: Charts | None = None
    # Builds `audit` exports; None where no export store is wired (a bare core).
    exports: ExportLauncher | None = None
    # Walks a target's tree for `exclude`; None where none is wired (a bare core).
    previews: PreviewLauncher | None = None
    # Verbs invoked otherwise than with `prefix` on this platform, by their first word.
    prefixes: Mapping[str, str] = field(default_factory=dict)

    def prefix_for(self, path: str) -> str:
        """How the verb at `path` is invoked here (`/export-admin ` for `role grant` on Discord)."""
        return self.prefixes.get(path.split(" ", 1)[0], self.prefix)

    # Signs the web pages' links (F3) that replies carry; None: replies carry no page link.
    pages: PageLinks | None = None

    def target(self, name: str) -> TargetSpec:
        spec = self.targets.get(name)
        if spec is None:
            raise NotFound(
                "error.target_not_found",
                target=name,
                suggestion=suggest(name, list(self.targets)),
                targets=", ".join(self.targets) or "—",
            )
        return spec

    async def job(self, job_id: int) -> Job:
        job = await self.uow.jobs.get(job_id)
        if job is None:
            raise NotFound("error.job_not_found", job=job_id)
        return job

    async def audit(
        self,
        action: str,
        *,
        target: str | None = None,
        job_id: int | None = None,
        detail: str = "",
        outcome: Outcome = Outcome.OK,
    ) -> None:
        await self.uow.audit.append(
            audit_entry(self.actor, self.clock, action, outcome, target, job_id, detail)
        )


Handler = Callable[[Any, Context], Awaitable[Message]]
