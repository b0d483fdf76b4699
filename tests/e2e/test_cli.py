"""The rest of the command line: `db upgrade`, `audit export`, and the console on PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from storage import open_engine
from tests.e2e.conftest import EXPORTBOT, clean_env, console
from tests.integration.seed import seed_jobs


def _cli(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXPORTBOT, *args],
        cwd=workdir,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_db_upgrade_creates_the_schema(workdir: Path) -> None:
    done = _cli(workdir, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "Database is up to date." in done.stdout
    assert (workdir / "var" / "exportbot.db").exists()


def test_audit_export_writes_every_job_of_the_period_in_each_format(workdir: Path) -> None:
    console(workdir, "alice", 'run demo\nannotate #1 "checked by hand"\n')
    console(workdir, "bob", "run demo\n")
    since, until = "2000-01-01", "2100-12-31"
    as_csv = _cli(workdir, "audit", "export", "--since", since, "--until", until, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [(r["id"], r["state"], r["requester"]) for r in rows] == [
        ("1", "succeeded", "console:alice"),
        ("2", "succeeded", "console:bob"),
    ]
    assert "note: checked by hand (alice," in rows[0]["annotations"]
    assert int(rows[0]["size_bytes"]) > 0 and float(rows[0]["duration_seconds"]) >= 0

    out = workdir / "jobs.json"
    _cli(
        workdir,
        "audit",
        "export",
        "--since",
        since,
        "--until",
        until,
        "--format",
        "json",
        "--out",
        str(out),
    )
    records = json.loads(out.read_text())
    assert [r["annotations"][0]["text"] for r in records if r["annotations"]] == ["checked by hand"]

    ndjson = _cli(
        workdir, "audit", "export", "--since", since, "--until", until, "--format", "ndjson"
    )
    assert [json.loads(line)["id"] for line in ndjson.stdout.splitlines()] == [1, 2]

    empty = _cli(
        workdir,
        "audit",
        "export",
        "--since",
        "2001-01-01",
        "--until",
        "2001-01-02",
        "--format",
        "json",
    )
    assert json.loads(empty.stdout) == []


def test_audit_export_writes_a_period_of_100_000_jobs(workdir: Path) -> None:
    assert _cli(workdir, "db", "upgrade").returncode == 0
    asyncio.run(_seed(workdir, 100_000, notes_per_job=lambda n: int(n % 10 == 0)))

    done = _cli(workdir, "audit", "export", "--since", "2026-01-01", "--until", "2026-12-31")

    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0][0] == "id" and len(rows) == 1 + 100_000
    assert [int(row[0]) for row in rows[1:]] == list(range(1, 100_001))
    assert rows[-1][-1].startswith("note: note 0 of job 100000 (Nina, ")


def test_audit_export_into_a_pipe_closed_early_ends_quietly(workdir: Path) -> None:
    """`exportbot audit export ... | head -1`: the reader leaves after one line."""
    assert _cli(workdir, "db", "upgrade").returncode == 0
    asyncio.run(_seed(workdir, 5_000, notes_per_job=lambda n: 1))  # well past a pipe's buffer
    export = subprocess.Popen(
        [EXPORTBOT, "audit", "export", "--since", "2026-01-01", "--until", "2026-12-31"],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert export.stdout is not None and export.stderr is not None
    assert export.stdout.readline().startswith(b"id,target,state,")
    export.stdout.close()
    status = export.wait(timeout=60)
    stderr = export.stderr.read().decode()
    export.stderr.close()

    assert status in (0, 141), stderr  # 141: 128 + SIGPIPE, what a shell reports
    assert stderr == ""  # no "Cannot use the database", no "Broken pipe", no traceback


def test_a_console_script_into_a_pipe_closed_early_ends_quietly(workdir: Path) -> None:
    """`yes status | head -3000 | exportbot console | head -1`."""
    console_run = subprocess.Popen(
        [EXPORTBOT, "console", "--user", "alice"],
        cwd=workdir,
        env=clean_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert console_run.stdin and console_run.stdout and console_run.stderr
    console_run.stdin.write(b"status\n" * 3000)  # replies far beyond a pipe's buffer
    console_run.stdin.close()
    assert console_run.stdout.readline()
    console_run.stdout.close()
    status = console_run.wait(timeout=120)
    stderr = console_run.stderr.read().decode()
    console_run.stderr.close()

    assert status in (0, 141), stderr
    assert "database" not in stderr and "Traceback" not in stderr and "Broken pipe" not in stderr


def test_audit_export_to_a_file_it_cannot_write_names_the_file(workdir: Path) -> None:
    assert _cli(workdir, "db", "upgrade").returncode == 0
    out = workdir / "missing" / "jobs.csv"
    done = _cli(
        workdir,
        "audit",
        "export",
        "--since",
        "2026-01-01",
        "--until",
        "2026-01-02",
        "--out",
        str(out),
    )
    assert done.returncode == 73, done.stderr  # EX_CANTCREAT
    assert f"Cannot write {out}: No such file or directory" in done.stderr
    assert "database" not in done.stderr and "Traceback" not in done.stderr


async def _seed(workdir: Path, jobs: int, notes_per_job: Callable[[int], int]) -> None:
    """Jobs one a second from 2 January 2026, in the demo database `db upgrade` made."""
    async with open_engine(f"sqlite+aiosqlite:///{workdir / 'var' / 'exportbot.db'}") as engine:
        await seed_jobs(engine, jobs, datetime(2026, 1, 2, tzinfo=UTC), notes_per_job=notes_per_job)


def test_audit_export_refuses_a_backwards_period(workdir: Path) -> None:
    done = _cli(workdir, "audit", "export", "--since", "2026-02-01", "--until", "2026-01-01")
    assert done.returncode == 2
    assert "--until must be after --since." in done.stderr


def test_the_console_works_on_postgresql(workdir: Path, pg_database_url: str) -> None:
    done = console(
        workdir, "alice", "run demo\nstatus #1\n", EXPORTBOT_DATABASE_URL=pg_database_url
    )
    assert done.returncode == 0, done.stderr
    assert "Job #1 · demo — succeeded" in done.stdout
    again = console(workdir, "dave", "run demo\n", EXPORTBOT_DATABASE_URL=pg_database_url)
    assert "You need the “run” capability on demo for this." in again.stdout


def test_numbers_past_what_an_id_column_holds_are_named_on_postgresql(
    workdir: Path, pg_database_url: str
) -> None:
    """PostgreSQL's ids are 32-bit: a 12-digit job number reached it and came back as an
    internal error (asyncpg: value out of int32 range) on every verb that takes one."""
    script = "status #2147483648\ncancel #999999999999\nannotate #999999999999 hi\n"
    script += "alerts retry 999999999999\nschedule submit #2147483648\nstatus #2147483647\n"
    done = console(workdir, "alice", script, EXPORTBOT_DATABASE_URL=pg_database_url)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "went wrong" not in done.stdout
    assert done.stdout.count("is not a job number") == 3, done.stdout
    assert "There is no job #2147483647." in done.stdout
    name = pg_database_url.rpartition("/")[2]
    errors = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-tAc",
         "SELECT count(*) FROM audit_log WHERE outcome = 'error'", name],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert errors == "0"


def test_an_unreachable_database_is_named_without_its_password(workdir: Path) -> None:
    done = console(
        workdir,
        "alice",
        "status\n",
        EXPORTBOT_DATABASE_URL="postgresql://bot:hunter2@127.0.0.1:9/exportbot",
    )
    assert done.returncode == 69
    assert "Cannot use the database postgresql+asyncpg://bot:***@127.0.0.1:9/exportbot" in (
        done.stderr
    )
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr


def test_slack_without_a_bot_token_is_a_named_configuration_error(workdir: Path) -> None:
    done = _cli(workdir, "serve", "--port", "0", SLACK_SIGNING_SECRET="s" * 32)
    assert done.returncode == 2, done.stderr
    assert "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not" in done.stderr
    assert "Traceback" not in done.stderr and "BoltError" not in done.stderr


def test_a_platform_that_fails_at_start_is_named_not_the_database(workdir: Path) -> None:
    done = _cli(
        workdir,
        "serve",
        "--port",
        "0",
        SLACK_SIGNING_SECRET="s" * 32,
        SLACK_BOT_TOKEN="xoxb-not-a-real-token",
        EXPORTBOT_SLACK_API_URL="http://127.0.0.1:9/api/",
    )
    assert done.returncode == 69, done.stderr
    assert "Slack is not available: auth.test at http://127.0.0.1:9/api/ failed" in done.stderr
    assert "Cannot use the database" not in done.stderr
    assert "Traceback" not in done.stderr and "xoxb-not-a-real-token" not in done.stderr


def test_a_manifest_to_a_file_it_cannot_write_names_the_file(workdir: Path) -> None:
    out = workdir / "missing" / "slack.yaml"
    done = _cli(workdir, "manifest", "slack", "--out", str(out))
    assert done.returncode == 73, done.stderr
    assert f"Cannot write {out}: No such file or directory" in done.stderr
    assert "database" not in done.stderr


# --- audit exports (issue 15) ---


def test_audit_export_of_the_action_log_holds_who_did_what_and_keeps_to_a_target(
    workdir: Path,
) -> None:
    console(workdir, "alice", "run demo\nstatus\n")
    console(workdir, "bob", "role grant carol admin\n")  # refused: bob is an operator
    since, until = "2000-01-01", "2100-12-31"

    done = _cli(workdir, "audit", "export", "--since", since, "--until", until, "--what", "actions")

    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    said = [(r["actor"], r["command"], r["outcome"]) for r in rows if r["platform"] == "console"]
    assert ("console:alice", "run", "ok") in said
    assert ("console:alice", "status", "ok") in said
    assert ("console:bob", "role grant", "refused") in said
    demo = _cli(
        workdir,
        "audit", "export", "--since", since, "--until", until,
        "--what", "actions", "--target", "demo", "--format", "ndjson",
    )  # fmt: skip
    records = [json.loads(line) for line in demo.stdout.splitlines()]
    assert records and {r["target"] for r in records} == {"demo"}
    jobs_elsewhere = _cli(
        workdir, "audit", "export", "--since", since, "--until", until, "--target", "other"
    )
    assert jobs_elsewhere.stdout.splitlines()[1:] == []  # the header, and no job


def test_audit_in_the_console_prints_the_file_path_and_the_link(workdir: Path) -> None:
    done = console(workdir, "alice", "run demo\naudit --format ndjson\n")

    assert done.returncode == 0, done.stderr
    assert "Audit export — Ready" in done.stdout
    [path_line] = [line for line in done.stdout.splitlines() if "File on this machine" in line]
    path = Path(path_line.split(": ", 1)[1])
    [job] = [json.loads(line) for line in path.read_text().splitlines()]
    assert job["id"] == 1 and job["target"] == "demo"
    assert "/exports/" in done.stdout and "sig=" in done.stdout
