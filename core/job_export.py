"""Job export (C5 for the CLI): every job of a period as CSV, JSON or NDJSON, streamed.

Jobs arrive in batches (one database fetch each) and leave as one text chunk per batch, so
memory stays constant whatever the period holds, and the per-job work is plain tuples: a
million jobs is the scale this is measured at (bench/audit_export.py).
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

JobBatches = AsyncIterator[Sequence[tuple[Job, Sequence[Annotation]]]]


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


COLUMNS = (
    "id", "target", "state", "origin", "platform", "workspace", "channel", "reference",
    "requester", "requester_name", "created_at", "started_at", "finished_at",
    "duration_seconds", "size_bytes", "file_count", "sha256", "error", "annotations",
)  # fmt: skip


def job_values(job: Job) -> tuple[Any, ...]:
    """The job's values in the order of COLUMNS, without the annotations (the last column)."""
    duration = job.duration
    origin = job.origin
    return (
        job.id,
        job.target,
        job.state.value,
        origin.kind.value,
        origin.platform,
        origin.workspace,
        origin.channel,
        origin.reference,
        job.requester.key if job.requester else None,
        job.requester_name,
        _iso(job.created_at),
        _iso(job.started_at),
        _iso(job.finished_at),
        round(duration.total_seconds(), 3) if duration else None,
        job.size_bytes,
        job.file_count,
        job.sha256,
        job.error,
    )


def annotation_record(a: Annotation) -> dict[str, Any]:
    return {
        "kind": a.kind.value,
        "text": a.text,
        "author": a.author.key,
        "author_name": a.author_name,
        "created_at": _iso(a.created_at),
        "link": a.link,
    }


def job_record(job: Job, annotations: Sequence[Annotation]) -> dict[str, Any]:
    """The job as JSON writes it: every column by name, the annotations as a list."""
    record = dict(zip(COLUMNS, job_values(job), strict=False))
    record["annotations"] = [annotation_record(a) for a in annotations]
    return record


async def export_jobs(batches: JobBatches, fmt: ExportFormat) -> AsyncGenerator[str, None]:
    """Yield the export as text chunks, one batch of jobs at a time."""
    if fmt is ExportFormat.CSV:
        yield _csv_chunk([COLUMNS])
        async for batch in batches:
            yield _csv_chunk([_csv_row(job, annotations) for job, annotations in batch])
    elif fmt is ExportFormat.NDJSON:
        async for batch in batches:
            yield "".join(_json(job_record(job, notes)) + "\n" for job, notes in batch)
    else:
        yield "["
        separator = "\n"
        async for batch in batches:
            if batch:
                yield separator + ",\n".join(_json(job_record(j, notes)) for j, notes in batch)
                separator = ",\n"
        yield "\n]\n"


def _csv_row(job: Job, annotations: Sequence[Annotation]) -> list[Any]:
    row = list(job_values(job))  # None is written as an empty cell by the csv module
    for index in _TEXT_COLUMNS:
        text = row[index]
        if text and text[0] in _FORMULA_CHARACTERS:
            row[index] = "'" + text
    if annotations:  # starts with a kind's name: never a formula
        row.append(
            " | ".join(
                f"{a.kind.value}: {a.text} ({a.author_name}, {_iso(a.created_at)})"
                for a in annotations
            )
        )
    return row


def _json(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False)


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, may
# shift it into one); a leading apostrophe makes it text (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """`text` as a spreadsheet shows it but never evaluates it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


_FORMULA_CHARACTERS = frozenset("".join(FORMULA_STARTS))
# The columns holding text from people or platforms; the others are numbers, enums, times.
_TEXT_COLUMNS = tuple(
    COLUMNS.index(name)
    for name in (
        "target", "platform", "workspace", "channel", "reference", "requester",
        "requester_name", "sha256", "error",
    )
)  # fmt: skip


def _csv_chunk(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    # RFC 4180's CRLF: Python 3.11's writer quotes a field holding a character of the line
    # terminator only, so with "\n" a lone CR in a name went out bare and split the row.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
