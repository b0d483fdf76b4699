"""Job export (C5 for the CLI): every job of a period as CSV, JSON or NDJSON, streamed.

Rows arrive from an async iterator and leave as text chunks, so memory stays constant
whatever the period holds.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.model import Annotation, Job

JobRows = AsyncIterator[tuple[Job, Sequence[Annotation]]]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


COLUMNS = (
    "id", "target", "state", "origin", "platform", "workspace", "channel", "reference",
    "requester", "requester_name", "created_at", "started_at", "finished_at",
    "duration_seconds", "size_bytes", "file_count", "sha256", "error", "annotations",
)  # fmt: skip


def job_record(job: Job, annotations: Sequence[Annotation]) -> dict[str, Any]:
    duration = job.duration
    return {
        "id": job.id,
        "target": job.target,
        "state": job.state.value,
        "origin": job.origin.kind.value,
        "platform": job.origin.platform,
        "workspace": job.origin.workspace,
        "channel": job.origin.channel,
        "reference": job.origin.reference,
        "requester": job.requester.key if job.requester else None,
        "requester_name": job.requester_name,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "duration_seconds": round(duration.total_seconds(), 3) if duration else None,
        "size_bytes": job.size_bytes,
        "file_count": job.file_count,
        "sha256": job.sha256,
        "error": job.error,
        "annotations": [
            {
                "kind": a.kind.value,
                "text": a.text,
                "author": a.author.key,
                "author_name": a.author_name,
                "created_at": _iso(a.created_at),
                "link": a.link,
            }
            for a in annotations
        ],
    }


async def export_jobs(rows: JobRows, fmt: ExportFormat) -> AsyncGenerator[str, None]:
    """Yield the export as text chunks, one job at a time."""
    if fmt is ExportFormat.CSV:
        yield _csv_line(COLUMNS)
        async for job, annotations in rows:
            record = job_record(job, annotations)
            record["annotations"] = " | ".join(
                f"{a['kind']}: {a['text']} ({a['author_name']}, {a['created_at']})"
                for a in record["annotations"]
            )
            yield _csv_line(tuple(_cell(record[c]) for c in COLUMNS))
    elif fmt is ExportFormat.NDJSON:
        async for job, annotations in rows:
            yield json.dumps(job_record(job, annotations), ensure_ascii=False) + "\n"
    else:
        yield "["
        separator = "\n"
        async for job, annotations in rows:
            yield separator + json.dumps(job_record(job, annotations), ensure_ascii=False)
            separator = ",\n"
        yield "\n]\n"


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, may
# shift it into one); a leading apostrophe makes it text (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """`text` as a spreadsheet shows it but never evaluates it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return spreadsheet_text(value) if isinstance(value, str) else value


def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    # RFC 4180's CRLF: Python 3.11's writer quotes a field holding a character of the line
    # terminator only, so with "\n" a lone CR in a name went out bare and split the row.
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
