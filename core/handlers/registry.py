"""Every command type and the handler that answers it."""

from __future__ import annotations

from core.commands import model as c
from core.handlers import (
    alerts,
    apikeys,
    exclusions,
    exports,  # issue 15: audit exports
    help,
    home,
    jobs,
    notes,
    performance,
    quotas,
    roles,
    schedules,
    subscriptions,
    tour,
)
from core.handlers.context import Handler

HANDLERS: dict[type[c.Command], Handler] = {
    **jobs.HANDLERS,
    **notes.HANDLERS,
    **roles.HANDLERS,
    **help.HANDLERS,
    **schedules.HANDLERS,
    **alerts.HANDLERS,
    **apikeys.HANDLERS,
    **quotas.HANDLERS,
    **home.HANDLERS,
    **subscriptions.HANDLERS,
    **performance.HANDLERS,
    **exports.HANDLERS,
    **exclusions.HANDLERS,
    **tour.HANDLERS,
}
