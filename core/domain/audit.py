"""The audit line (B6) every change appends, redacted whole before it is cut (G3)."""

from __future__ import annotations

from core.domain.model import Actor, AuditEntry, Outcome
from core.ports import Clock
from core.safety.redaction import redact


def audit_entry(
    actor: Actor,
    clock: Clock,
    action: str,
    outcome: Outcome,
    target: str | None = None,
    job_id: int | None = None,
    detail: str = "",
) -> AuditEntry:
    return AuditEntry(
        at=clock.now(),
        actor=actor.principal.key,
        actor_name=actor.display_name,
        platform=actor.platform,
        workspace=actor.workspace,
        channel=actor.channel,
        action=action,
        outcome=outcome,
        target=target,
        job_id=job_id,
        detail=redact(detail)[:1000],  # G3: the audit log is append-only; redact whole, then cut
    )
