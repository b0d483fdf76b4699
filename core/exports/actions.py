"""The action log (B6) as CSV, JSON or NDJSON, a page of entries at a time.

The same three formats as the job export (core/jobs/export.py): CSV with RFC 4180's CRLF and
the spreadsheet formula guard on every cell people or platforms wrote, JSON one array,
NDJSON one object a line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from core.domain.model import AuditEntry
from core.jobs.export import FORMULA_STARTS, ExportFormat, spreadsheet_text

ACTION_COLUMNS = (
    "id", "at", "actor", "actor_name", "platform", "workspace", "channel", "command",
    "outcome", "target", "job_id", "detail",
)  # fmt: skip
_TEXT_AT = tuple(
    ACTION_COLUMNS.index(name)
    for name in (
        "actor", "actor_name", "platform", "workspace", "channel", "command", "target", "detail"
    )
)  # fmt: skip
_FORMULA_CHARACTERS = frozenset("".join(FORMULA_STARTS))

ActionPages = AsyncIterator[Sequence[AuditEntry]]


def action_record(entry: AuditEntry) -> dict[str, Any]:
    """The entry by column name; its time as ISO 8601 text with the offset."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "actor_name": entry.actor_name,
        "platform": entry.platform,
        "workspace": entry.workspace,
        "channel": entry.channel,
        "command": entry.action,
        "outcome": entry.outcome.value,
        "target": entry.target,
        "job_id": entry.job_id,
        "detail": entry.detail,
    }


async def export_actions(pages: ActionPages, fmt: ExportFormat) -> AsyncGenerator[str, None]:
    """Yield the export as text chunks, one page of entries at a time."""
    if fmt is ExportFormat.CSV:
        yield _csv([ACTION_COLUMNS])
        async for page in pages:
            yield _csv([_csv_cells(entry) for entry in page])
    elif fmt is ExportFormat.NDJSON:
        async for page in pages:
            yield "".join([_json(action_record(entry)) + "\n" for entry in page])
    else:
        yield "["
        separator = "\n"
        async for page in pages:
            if page:
                yield separator + ",\n".join([_json(action_record(e)) for e in page])
                separator = ",\n"
        yield "\n]\n"


def _csv_cells(entry: AuditEntry) -> list[Any]:
    """The entry's cells in ACTION_COLUMNS order, a text cell that starts like a formula made
    text (built directly: a million lines go through here, bench/audit_export.py)."""
    cells: list[Any] = [
        entry.id, entry.at.isoformat(), entry.actor, entry.actor_name, entry.platform,
        entry.workspace, entry.channel, entry.action, entry.outcome.value, entry.target,
        entry.job_id, entry.detail,
    ]  # fmt: skip
    for index in _TEXT_AT:
        text = cells[index]
        if text and text[0] in _FORMULA_CHARACTERS:
            cells[index] = spreadsheet_text(text)
    return cells


def _csv(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
