"""Job exports as a spreadsheet would read them (issue 12, item 10): no cell is a formula."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.domain.model import (
    Annotation,
    AnnotationKind,
    Job,
    JobState,
    Origin,
    OriginKind,
    Principal,
)
from core.jobs.export import (
    COLUMNS,
    ExportBatches,
    ExportFormat,
    ExportNote,
    ExportRow,
    export_jobs,
    export_rows,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NINA = Principal("slack", "T1", "U9")
HYPERLINK = '=HYPERLINK("http://x","y")'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _job(requester_name: str, *, error: str | None = None) -> Job:
    return Job(
        id=7,
        target="site-a",
        state=JobState.FAILED,
        origin=Origin(OriginKind.USER, "slack", "T1", "C1"),
        requester=NINA,
        requester_name=requester_name,
        created_at=T0,
        started_at=T0,
        finished_at=T0 + timedelta(seconds=2),
        error=error,
    )


def _note(text: str) -> Annotation:
    return Annotation(1, 7, AnnotationKind.NOTE, text, NINA, "Nina", T0)


async def _batches(
    *jobs: tuple[Job, Sequence[Annotation]],
) -> AsyncIterator[Sequence[tuple[Job, Sequence[Annotation]]]]:
    yield list(jobs)


async def _export(fmt: ExportFormat, *jobs: tuple[Job, Sequence[Annotation]]) -> str:
    return "".join([chunk async for chunk in export_jobs(_batches(*jobs), fmt)])


async def test_a_requester_named_like_a_formula_is_written_as_text_in_csv() -> None:
    notes = [_note("+1 for the rerun"), _note("-rf was not needed"), _note("@here look")]
    text = await _export(ExportFormat.CSV, (_job(HYPERLINK, error="-1 exit status"), notes))

    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["requester_name"] == "'" + HYPERLINK
    assert row["error"] == "'-1 exit status"
    assert "+1 for the rerun" in row["annotations"] and "@here look" in row["annotations"]
    assert not [v for v in row.values() if v.startswith(FORMULA_STARTS)]
    assert row["duration_seconds"] == "2.0" and row["id"] == "7"  # numbers stay numbers


async def test_a_note_starting_a_cell_with_a_formula_sign_is_written_as_text() -> None:
    """The annotations cell starts with the note's kind; a formula sign inside it is inert, but
    a cell that *starts* with a sign (tab, CR) is escaped whichever column it is in."""
    for start in FORMULA_STARTS:
        text = await _export(ExportFormat.CSV, (_job(f"{start}SUM(A1:A9)"), [_note(start)]))
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["requester_name"] == f"'{start}SUM(A1:A9)"


async def test_json_and_ndjson_keep_the_text_as_it_is() -> None:
    pair = (_job(HYPERLINK), [_note("+1")])
    [record] = json.loads(await _export(ExportFormat.JSON, pair))
    assert record["requester_name"] == HYPERLINK and record["annotations"][0]["text"] == "+1"
    line = json.loads(await _export(ExportFormat.NDJSON, pair))
    assert line["requester_name"] == HYPERLINK


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=40), note=st.text(max_size=40))
async def test_no_csv_cell_starts_a_formula_and_the_text_survives(name: str, note: str) -> None:
    text = await _export(ExportFormat.CSV, (_job(name), [_note(note)]))

    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    assert not [v for v in row.values() if v.startswith(FORMULA_STARTS)]
    assert row["requester_name"] == ("'" + name if name.startswith(FORMULA_STARTS) else name)


_CELL = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", "a,b", 'q"q', "=1", "-x"]))


@settings(max_examples=200, deadline=None)
@given(texts=st.lists(_CELL, min_size=9, max_size=9), note=st.one_of(st.none(), st.text()))
async def test_csv_rows_are_what_the_csv_module_writes(
    texts: list[str | None], note: str | None
) -> None:
    """Rows are joined directly when nothing needs quoting or guarding; whatever the text, the
    result is the csv module's, with formula-like text cells prefixed."""
    target, platform, workspace, channel, reference, requester, name, sha256, error = texts
    row = (
        7, target, "failed", "user", platform, workspace, channel, reference, requester, name,
        "2026-03-02T10:00:00+00:00", "2026-03-02T10:00:00.500000+00:00", None, -1, 10,
        sha256, error,
    )  # fmt: skip
    notes = (
        []
        if note is None
        else [("note", note, "slack:T1:U9", "Nina", "2026-03-02T10:00:00+00:00", "")]
    )

    text = "".join([chunk async for chunk in export_rows(_rows((row, notes)), ExportFormat.CSV)])

    values: list[object] = [*row[:13], None, *row[13:]]
    values = [
        "'" + v
        if isinstance(v, str) and v.startswith(FORMULA_STARTS) and i not in (2, 3, 10, 11, 12)
        else v
        for i, v in enumerate(values)
    ]
    if notes:
        values.append(f"note: {note} (Nina, 2026-03-02T10:00:00+00:00)")
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\r\n").writerows([COLUMNS, values])
    assert text == expected.getvalue()


async def _rows(*rows: tuple[ExportRow, list[ExportNote]]) -> ExportBatches:
    yield list(rows)
