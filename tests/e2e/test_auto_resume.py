"""Auto-resume (E1) with real processes: the console is killed with SIGKILL between a job's
claim and its start (held there by the test's hold file) or in the middle of its run, and the
next process to start recovers it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.bootstrap import HOLD_VARIABLE
from tests.e2e.conftest import EXPORTBOT, clean_env, query

ROOT = Path(__file__).resolve().parents[2]  # this checkout's code, in the processes too


def _config(workdir: Path, attempts: int = 2) -> Path:
    config = workdir / "resume.toml"
    config.write_text(
        'admins = ["console:alice"]\n'
        f"auto_resume_attempts = {attempts}\n"
        "[[targets]]\n"
        'name = "quick"\n'
        'kind = "command"\n'
        # Each run leaves a line: how many times the target really ran.
        'command = ["sh", "-c", "echo run >> runs.log"]\n'
        f'workdir = "{workdir}"\n'
        "[[targets]]\n"
        'name = "slow"\n'
        'kind = "command"\n'
        'command = ["sh", "-c", "echo $$ > slow.pid; sleep 60"]\n'
        f'workdir = "{workdir}"\n'
    )
    return config


@pytest.fixture
def hold(workdir: Path) -> Iterator[Path]:
    """While this file exists, a claimed job waits before its start."""
    path = workdir / "hold"
    path.touch()
    yield path
    path.unlink(missing_ok=True)


def _console(workdir: Path, config: Path, script: str, hold: Path | None) -> subprocess.Popen[str]:
    extra = {"PYTHONPATH": str(ROOT)}
    if hold is not None:
        extra[HOLD_VARIABLE] = str(hold)
    process = subprocess.Popen(
        [EXPORTBOT, "console", "--user", "alice", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=workdir,
        env=clean_env(**extra),
    )
    assert process.stdin is not None
    process.stdin.write(script)
    process.stdin.flush()
    return process


def _finish(workdir: Path, config: Path, script: str) -> str:
    process = _console(workdir, config, script, None)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out


def _wait_until(workdir: Path, sql: str, timeout: float = 30) -> list[tuple[object, ...]]:
    db = workdir / "var" / "exportbot.db"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                rows = query(db, sql)
            except Exception:  # the schema may not exist yet
                rows = []
            if rows:
                return rows
        time.sleep(0.05)
    raise AssertionError(f"nothing matched within {timeout} s: {sql}")


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)


def _claimed_by(process: subprocess.Popen[str], job_id: int) -> str:
    return (
        f"SELECT 1 FROM jobs WHERE id = {job_id} AND state = 'running' "
        f"AND worker LIKE '%:{process.pid}' AND run_started_at IS NULL"
    )


def _jobs(workdir: Path) -> list[tuple[object, ...]]:
    return query(
        workdir / "var" / "exportbot.db",
        "SELECT id, state, origin_kind, origin_reference, run_started_at IS NOT NULL"
        " FROM jobs ORDER BY id",
    )


def test_sigkill_between_claim_and_start_relaunches_the_job_once(workdir: Path, hold: Path) -> None:
    config = _config(workdir)
    first = _console(workdir, config, "run quick\n", hold)
    _wait_until(workdir, _claimed_by(first, 1))
    _kill(first)
    hold.unlink()
    out = _finish(workdir, config, "status #2\n")
    assert "Started by: automatic resume of job #1" in out
    assert _jobs(workdir) == [
        (1, "interrupted", "user", "", 0),
        (2, "succeeded", "auto_resume", "1", 1),  # linked to the first attempt
    ]
    assert (workdir / "runs.log").read_text() == "run\n"  # ran once, never twice
    actions = query(workdir / "var" / "exportbot.db", "SELECT action, job_id FROM audit_log")
    assert ("job.auto_resumed", 2) in actions
    _finish(workdir, config, "status\n")  # one more start: nothing more to resume
    assert len(_jobs(workdir)) == 2


def test_sigkill_mid_run_leaves_the_job_interrupted_for_a_person_to_resume(
    workdir: Path,
) -> None:
    config = _config(workdir)
    running = _console(workdir, config, "run slow\n", None)
    _wait_until(workdir, "SELECT 1 FROM jobs WHERE run_started_at IS NOT NULL")
    pid_file = workdir / "slow.pid"
    try:
        while not pid_file.exists() or not pid_file.read_text().strip():
            time.sleep(0.05)
        _kill(running)
        out = _finish(workdir, config, "status #1\n")
    finally:  # the command's own process group outlives its console
        os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    assert "Job #1 · slow — interrupted" in out
    assert "Error: worker stopped before the job ended" in out
    assert _jobs(workdir) == [(1, "interrupted", "user", "", 1)]  # not relaunched
    [(payload,)] = query(
        workdir / "var" / "exportbot.db", "SELECT payload FROM outbox WHERE kind = 'job.ended'"
    )
    assert '"state": "interrupted"' in str(payload) and "resumed_by" not in str(payload)


def test_resumes_are_bounded_by_auto_resume_attempts(workdir: Path, hold: Path) -> None:
    config = _config(workdir, attempts=2)
    process = _console(workdir, config, "run quick\n", hold)
    for job_id in (1, 2, 3):  # the first attempt, then each resume, killed before it starts
        _wait_until(workdir, _claimed_by(process, job_id))
        _kill(process)
        # The next start recovers the job, and relaunches it while attempts remain.
        process = _console(workdir, config, "status\n", hold)
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert _jobs(workdir) == [
        (1, "interrupted", "user", "", 0),
        (2, "interrupted", "auto_resume", "1", 0),
        (3, "interrupted", "auto_resume", "1", 0),
    ]
    assert not (workdir / "runs.log").exists()  # the target never ran, let alone twice
