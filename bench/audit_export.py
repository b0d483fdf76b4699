"""`exportbot audit export` of a million jobs (or actions) beside the database's own CSV writer.

    python bench/audit_export.py [--jobs 1000000] [--notes 100000] [--formats csv,ndjson,json]
                                 [--databases sqlite,postgresql] [--what jobs|actions]

With `--what actions`, `--jobs` action-log lines (10,000 a day) are seeded instead, and the
export is `audit export --what actions` beside the same SELECT of the audit table. The
exportbot measured is this checkout's (`python -m bot.cli`).

Seeds the jobs (10,000 a day) and notes into a fresh SQLite file and a fresh PostgreSQL schema
(EXPORTBOT_BENCH_PG_URL, default postgres@127.0.0.1:5432/test; the schema belongs to a role of
the same name, so both our export and psql find it by the default search path, and both are
dropped at the end). Then, in the same run, on the same database:

- baseline: the same LEFT JOIN written as CSV by `sqlite3 -csv` or `psql -c "\\copy (...) to"`;
- ours: `exportbot audit export` of the whole period, and of one day (the memory reference).

Each command runs as a child of its own; its time is wall-clock and its peak memory the RSS
high-water mark the kernel reports for that child (os.wait4). Aims: at most 2x the baseline's
time, at most 32 MiB above the one-day export's peak.
"""

from __future__ import annotations

import argparse
import csv
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPORTBOT = [sys.executable, "-m", "bot.cli"]  # this checkout's, whatever the venv installed
PG_URL = os.environ.get("EXPORTBOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
FIRST_DAY = datetime(2025, 1, 1, tzinfo=UTC)
JOBS_PER_DAY = 10_000
TIME_AIM = 2.0
MEMORY_AIM_MIB = 32.0

JOB_COLUMNS = (
    "id", "target", "state", "origin_kind", "origin_platform", "origin_workspace",
    "origin_channel", "origin_reference", "requester", "requester_name", "created_at",
    "started_at", "finished_at", "file_count", "size_bytes", "sha256", "error",
    "cancel_requested",
)  # fmt: skip
NOTE_COLUMNS = ("job_id", "kind", "text", "author", "author_name", "created_at", "link")
STATES = ("succeeded", "succeeded", "succeeded", "failed", "cancelled")


AUDIT_COLUMNS = (
    "at", "actor", "actor_name", "platform", "workspace", "channel", "action", "outcome",
    "target", "job_id", "detail",
)  # fmt: skip


def actions_sql(since: str, until: str) -> str:
    """The action export's SELECT, the columns it writes, in its order."""
    return (
        "SELECT id, at, actor, actor_name, platform, workspace, channel, action, outcome,"
        " target, job_id, detail FROM audit_log"
        f" WHERE at >= '{since}' AND at < '{until}' ORDER BY id"
    )


def audit_rows(count: int) -> Iterator[tuple[object, ...]]:
    step = timedelta(days=1) / JOBS_PER_DAY
    for number in range(1, count + 1):
        at = FIRST_DAY + step * (number - 1)
        yield (
            _moment(at), f"slack:T024BE7LD:U{number % 900:06d}", f"Person {number % 900}",
            "slack", "T024BE7LD", f"C{number % 500:07d}", ("status", "run", "history")[number % 3],
            "ok" if number % 11 else "refused", f"site-{number % 40}",
            number if number % 3 == 1 else None, f"run site-{number % 40}",
        )  # fmt: skip


def join_sql(since: str, until: str) -> str:
    """The export's LEFT JOIN, the columns it writes, in its order."""
    return (
        "SELECT j.id, j.target, j.state, j.origin_kind, j.origin_platform, j.origin_workspace,"
        " j.origin_channel, j.origin_reference, j.requester, j.requester_name, j.created_at,"
        " j.started_at, j.finished_at, j.size_bytes, j.file_count, j.sha256, j.error,"
        " a.kind, a.text, a.author, a.author_name, a.created_at, a.link"
        " FROM jobs j LEFT JOIN annotations a ON a.job_id = j.id"
        f" WHERE j.created_at >= '{since}' AND j.created_at < '{until}'"
        " ORDER BY j.id, a.id"
    )


def _moment(at: datetime) -> str:
    """How SQLAlchemy stores a UTC time in both databases (naive, microseconds)."""
    return at.replace(tzinfo=None).isoformat(" ", "microseconds")


def job_rows(count: int) -> Iterator[tuple[object, ...]]:
    step = timedelta(days=1) / JOBS_PER_DAY
    for number in range(1, count + 1):
        created = FIRST_DAY + step * (number - 1)
        state = STATES[number % len(STATES)]
        yield (
            number, f"site-{number % 40}", state, "user" if number % 3 else "schedule",
            "slack", "T024BE7LD", f"C{number % 500:07d}", f"{1735689600 + number}.000100",
            f"slack:T024BE7LD:U{number % 900:06d}",
            f"Person {number % 900}", _moment(created), _moment(created + timedelta(seconds=2)),
            _moment(created + timedelta(seconds=95)), 1200 + number % 50, 10_485_760 + number,
            f"{number:064x}", "exit status 2: tar: file changed as we read it" if state == "failed"
            else None, 0,
        )  # fmt: skip


def note_rows(count: int, jobs: int) -> Iterator[tuple[object, ...]]:
    if count <= 0 or jobs <= 0:
        return
    stride = max(1, jobs // count)
    for index in range(count):
        job = 1 + (index * stride) % jobs
        created = FIRST_DAY + timedelta(days=1) / JOBS_PER_DAY * (job - 1) + timedelta(minutes=5)
        yield (
            job, "note", f"Checked by hand, ticket OPS-{index}", "slack:T024BE7LD:U000042",
            "Nina", _moment(created), f"https://example.slack.com/archives/C1/p{index}",
        )  # fmt: skip


@dataclass
class Measure:
    seconds: float
    peak_mib: float
    rows: int


def run(command: Sequence[str], out: Path, env: dict[str, str] | None = None) -> Measure:
    """Run `command` with stdout into `out`; its time and its own RSS high-water mark."""
    with out.open("wb") as sink:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        assert child.stderr is not None
        raise SystemExit(f"{command[0]} failed: {child.stderr.read().decode()[-2000:]}")
    return Measure(seconds, usage.ru_maxrss / 1024, count_records(out))


def count_records(path: Path) -> int:
    """Records (not lines: a field may hold a newline), header excluded."""
    if path.suffix == ".json":
        with path.open(encoding="utf-8") as handle:
            return sum(1 for line in handle if line.startswith(("{", ",{")))
    if path.suffix == ".ndjson":
        with path.open(encoding="utf-8") as handle:
            return sum(1 for _ in handle)
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def exportbot(
    url: str, fmt: str, since: str, until: str, what: str = "jobs"
) -> tuple[list[str], dict[str, str]]:
    env = _env(url)
    command = [*EXPORTBOT, "audit", "export", "--since", since, "--until", until]
    return [*command, "--format", fmt, "--what", what], env


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPORTBOT_")}
    env["EXPORTBOT_DATABASE_URL"] = url
    env["PYTHONPATH"] = str(ROOT)
    return env


# --- the two databases -----------------------------------------------------------------------


def seed_sqlite(path: Path, jobs: int, notes: int, what: str = "jobs") -> str:
    url = f"sqlite:///{path}"
    _upgrade(url)
    with sqlite3.connect(path) as connection:
        if what == "actions":
            marks = ", ".join("?" * len(AUDIT_COLUMNS))
            connection.executemany(
                f"INSERT INTO audit_log ({', '.join(AUDIT_COLUMNS)}) VALUES ({marks})",
                audit_rows(jobs),
            )
            jobs, notes = 0, 0
        marks = ", ".join("?" * len(JOB_COLUMNS))
        connection.executemany(
            f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}) VALUES ({marks})", job_rows(jobs)
        )
        marks = ", ".join("?" * len(NOTE_COLUMNS))
        connection.executemany(
            f"INSERT INTO annotations ({', '.join(NOTE_COLUMNS)}) VALUES ({marks})",
            note_rows(notes, jobs),
        )
        connection.execute("ANALYZE")
    with sqlite3.connect(path) as connection:  # both readers then read the file, not the WAL
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return url


def sqlite_baseline(path: Path, since: str, until: str, what: str = "jobs") -> list[str]:
    sql = actions_sql(since, until) if what == "actions" else join_sql(since, until)
    return ["sqlite3", "-csv", "-header", str(path), sql]


def create_pg_schema(name: str) -> str:
    """A role and a schema of the same name: `$user` in the default search path finds it."""
    _psql(PG_URL, f'CREATE ROLE "{name}" LOGIN; CREATE SCHEMA "{name}" AUTHORIZATION "{name}";')
    server = PG_URL.rsplit("@", 1)[1]
    return f"postgresql://{name}@{server}"


def drop_pg_schema(name: str) -> None:
    _psql(PG_URL, f'DROP SCHEMA IF EXISTS "{name}" CASCADE; DROP ROLE IF EXISTS "{name}";')


def seed_postgresql(url: str, jobs: int, notes: int, folder: Path, what: str = "jobs") -> None:
    _upgrade(url)
    tables = (
        [("audit_log", AUDIT_COLUMNS, audit_rows(jobs))]
        if what == "actions"
        else [
            ("jobs", JOB_COLUMNS, job_rows(jobs)),
            ("annotations", NOTE_COLUMNS, note_rows(notes, jobs)),
        ]
    )
    for table, columns, rows in tables:
        data = folder / f"{table}.csv"
        with data.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(
                ["f" if value == 0 and column == "cancel_requested" else value for value, column
                 in zip(row, columns, strict=True)] for row in rows
            )  # fmt: skip
        _psql(url, f"\\copy {table} ({', '.join(columns)}) from '{data}' csv")
        data.unlink()
    _psql(url, "ANALYZE jobs; ANALYZE annotations; ANALYZE audit_log")


def pg_baseline(url: str, since: str, until: str, out: Path, what: str = "jobs") -> list[str]:
    sql = actions_sql(since, until) if what == "actions" else join_sql(since, until)
    return ["psql", url, "-qc", f"\\copy ({sql}) to '{out}' csv header"]


def _psql(url: str, sql: str) -> None:
    quiet = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}  # no cascade notices
    subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, env=quiet)


def _upgrade(url: str) -> None:
    subprocess.run(
        [*EXPORTBOT, "db", "upgrade"], env=_env(url), check=True, stdout=subprocess.DEVNULL
    )


# --- measuring and printing ------------------------------------------------------------------


def measure_database(
    name: str,
    url: str,
    baseline: Measure,
    formats: Sequence[str],
    jobs: int,
    folder: Path,
    what: str = "jobs",
) -> list[str]:
    days = -(-jobs // JOBS_PER_DAY)
    since = FIRST_DAY.date().isoformat()
    until = (FIRST_DAY + timedelta(days=days - 1)).date().isoformat()  # included
    one_day = (FIRST_DAY + timedelta(days=days // 2)).date().isoformat()
    lines = [_line(name, "baseline CSV", baseline, baseline, None)]
    for fmt in formats:
        command, env = exportbot(url, fmt, one_day, one_day, what)
        day = run(command, folder / f"day.{fmt}", env)
        command, env = exportbot(url, fmt, since, until, what)
        whole = run(command, folder / f"all.{fmt}", env)
        lines.append(_line(name, f"ours {fmt}, one day", day, baseline, None))
        lines.append(_line(name, f"ours {fmt}, all", whole, baseline, day))
        if fmt == "csv" and whole.rows != jobs:
            lines.append(f"!! {name}: {whole.rows:,} rows written, {jobs:,} expected")
    return lines


def _line(db: str, what: str, m: Measure, baseline: Measure, reference: Measure | None) -> str:
    ratio = m.seconds / baseline.seconds
    above = f"{m.peak_mib - reference.peak_mib:+9.1f}" if reference else " " * 9
    figures = f"{m.rows:>10,} {m.seconds:>9.2f} {ratio:>7.2f} {m.peak_mib:>9.1f} {above}"
    return f"{db:<11} {what:<22} {figures}"


HEADER = (
    f"{'database':<11} {'export':<22} {'rows':>10} {'seconds':>9} {'ratio':>7} "
    f"{'peak MiB':>9} {'above day':>9}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--formats", default="csv,ndjson,json")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--what", choices=("jobs", "actions"), default="jobs")
    args = parser.parse_args()
    what = args.what
    formats = args.formats.split(",")
    days = -(-args.jobs // JOBS_PER_DAY)
    since, until = _moment(FIRST_DAY), _moment(FIRST_DAY + timedelta(days=days))
    lines = [HEADER]
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as temporary:
        folder = Path(temporary)
        if "sqlite" in args.databases:
            started = time.perf_counter()
            url = seed_sqlite(folder / "bench.db", args.jobs, args.notes, what)
            print(f"sqlite seeded in {time.perf_counter() - started:.1f} s", flush=True)
            command = sqlite_baseline(folder / "bench.db", since, until, what)
            baseline = run(command, folder / "b.csv")
            lines += measure_database("sqlite", url, baseline, formats, args.jobs, folder, what)
            (folder / "bench.db").unlink()
        if "postgresql" in args.databases:
            schema = f"bench_{uuid.uuid4().hex[:10]}"
            url = create_pg_schema(schema)
            try:
                started = time.perf_counter()
                seed_postgresql(url, args.jobs, args.notes, folder, what)
                print(f"postgresql seeded in {time.perf_counter() - started:.1f} s", flush=True)
                target = folder / "b.csv"
                command = pg_baseline(url, since, until, target, what)
                baseline = run(command, folder / "psql.out")
                baseline.rows = count_records(target)
                lines += measure_database(
                    "postgresql", url, baseline, formats, args.jobs, folder, what
                )
            finally:
                drop_pg_schema(schema)
    print("\n".join(lines))
    print(f"aims: ratio <= {TIME_AIM:.0f} (time ours/baseline), "
          f"<= {MEMORY_AIM_MIB:.0f} MiB above the one-day export's peak")  # fmt: skip


if __name__ == "__main__":
    main()
