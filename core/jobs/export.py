"""Job export (C5 for the CLI): every job of a period as CSV, JSON or NDJSON, streamed.

Jobs arrive in batches (one database fetch each) and leave as one text chunk per batch, so
memory stays constant whatever the period holds. A million jobs is the scale this is measured
at (bench/audit_export.py), so the archive hands over plain rows (`ExportRow`: primitive
values in the order of JOB_FIELDS, times already as ISO 8601 text) rather than `Job` objects;
a CSV row is joined directly unless it needs the csv module's quoting or the formula guard,
and JSON goes through one encoder.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from core.domain.model import Annotation, Job

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
# What an archive reads for each job, in this order: COLUMNS but the two the export derives.
# Enums are their values, principals their keys, times ISO 8601 text with the offset
# (`datetime.isoformat()` of an aware UTC time), absent values None.
JOB_FIELDS = tuple(name for name in COLUMNS if name not in ("duration_seconds", "annotations"))
# What an archive reads for each note of a job, in this order, typed as JOB_FIELDS.
NOTE_FIELDS = ("kind", "text", "author", "author_name", "created_at", "link")

ExportRow = tuple[Any, ...]  # a job's JOB_FIELDS
ExportNote = tuple[Any, ...]  # a note's NOTE_FIELDS
ExportBatches = AsyncIterator[Sequence[tuple[ExportRow, Sequence[ExportNote]]]]


def job_fields(job: Job) -> ExportRow:
    """The job's values in the order of JOB_FIELDS."""
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
        job.size_bytes,
        job.file_count,
        job.sha256,
        job.error,
    )


def note_fields(a: Annotation) -> ExportNote:
    """The note's values in the order of NOTE_FIELDS."""
    return (a.kind.value, a.text, a.author.key, a.author_name, _iso(a.created_at), a.link)


def job_values(row: ExportRow) -> list[Any]:
    """The job's values in the order of COLUMNS, without the annotations (the last column)."""
    values = list(row)
    values.insert(_DURATION_AT, _duration(row[_STARTED_AT], row[_FINISHED_AT]))
    return values


def job_record(row: ExportRow, notes: Sequence[ExportNote]) -> dict[str, Any]:
    """The job as JSON writes it: every column by name, the annotations as a list."""
    record = dict(zip(COLUMNS, job_values(row), strict=False))
    record["annotations"] = [dict(zip(NOTE_FIELDS, note, strict=True)) for note in notes]
    return record


async def export_jobs(batches: JobBatches, fmt: ExportFormat) -> AsyncGenerator[str, None]:
    """Yield the export of `Job` objects as text chunks (as `export_rows` writes them)."""
    async for chunk in export_rows(_as_rows(batches), fmt):
        yield chunk


async def export_rows(batches: ExportBatches, fmt: ExportFormat) -> AsyncGenerator[str, None]:
    """Yield the export as text chunks, one batch of jobs at a time."""
    if fmt is ExportFormat.CSV:
        yield _csv_chunk([COLUMNS])
        async for batch in batches:
            yield _csv_lines(batch)
    elif fmt is ExportFormat.NDJSON:
        async for batch in batches:
            yield "".join([_json(job_record(row, notes)) + "\n" for row, notes in batch])
    else:
        yield "["
        separator = "\n"
        async for batch in batches:
            if batch:
                yield separator + ",\n".join([_json(job_record(r, notes)) for r, notes in batch])
                separator = ",\n"
        yield "\n]\n"


async def _as_rows(batches: JobBatches) -> ExportBatches:
    async for batch in batches:
        yield [(job_fields(job), [note_fields(a) for a in notes]) for job, notes in batch]


def _csv_lines(batch: Sequence[tuple[ExportRow, Sequence[ExportNote]]]) -> str:
    """The batch as CSV rows, each exactly as the csv module writes it.

    Most rows need neither quotes nor a formula guard, so they are joined as they are (the
    csv module costs several microseconds a row); a row whose joined text shows a quote, a
    line break, a comma inside a cell or a cell starting like a formula goes the long way."""
    lines = []
    for row, notes in batch:
        values = _csv_row(row, notes)
        line = ",".join(map(str, map(_NONE_AS_EMPTY.get, values, values)))
        if line.count(",") != len(values) - 1 or _needs_care(line):
            line = _csv_chunk([_guarded(values)]).removesuffix("\r\n")
        lines.append(line)
    lines.append("")  # the last row's line end
    return "\r\n".join(lines)


def _csv_row(row: ExportRow, notes: Sequence[ExportNote]) -> list[Any]:
    values = job_values(row)
    if notes:  # starts with a kind's name: never a formula
        values.append(
            " | ".join([f"{kind}: {text} ({name}, {at})" for kind, text, _, name, at, _ in notes])
        )
    return values


def _guarded(values: list[Any]) -> list[Any]:
    """`values` with each text cell a spreadsheet would take for a formula made text."""
    for index in _TEXT_COLUMNS:
        text = values[index]
        if text and text[0] in _FORMULA_CHARACTERS:
            values[index] = "'" + text
    return values


def _needs_care(line: str) -> bool:
    """Whether a row joined with commas holds what the csv module would quote (a quote, a line
    break; a comma inside a cell shows as one comma too many, counted by the caller) or a cell
    starting like a formula (`-` and `+` are in every time, so only after a comma)."""
    return (
        '"' in line or "\r" in line or "\n" in line or "=" in line or "@" in line
        or "\t" in line or ",-" in line or ",+" in line
    )  # fmt: skip


# One encoder for the whole export: `json.dumps` with options builds one per call.
_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and CR, may
# shift it into one); a leading apostrophe makes it text (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(text: str) -> str:
    """`text` as a spreadsheet shows it but never evaluates it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


_FORMULA_CHARACTERS = frozenset("".join(FORMULA_STARTS))
_NONE_AS_EMPTY: dict[Any, str] = {None: ""}  # the csv module writes None as an empty cell
# The columns holding text from people or platforms; the others are numbers, enums, times.
_TEXT_COLUMNS = tuple(
    COLUMNS.index(name)
    for name in (
        "target", "platform", "workspace", "channel", "reference", "requester",
        "requester_name", "sha256", "error",
    )
)  # fmt: skip
_DURATION_AT = COLUMNS.index("duration_seconds")
_STARTED_AT = JOB_FIELDS.index("started_at")
_FINISHED_AT = JOB_FIELDS.index("finished_at")


def _csv_chunk(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    # RFC 4180's CRLF: Python 3.11's writer quotes a field holding a character of the line
    # terminator only, so with "\n" a lone CR in a name went out bare and split the row.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def _duration(started: str | None, finished: str | None) -> float | None:
    """Seconds from start to finish, to the millisecond; None if not both (or no time)."""
    if started is None or finished is None:
        return None
    elapsed = datetime.fromisoformat(finished) - datetime.fromisoformat(started)
    return round(elapsed.total_seconds(), 3) if elapsed else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
