"""Crash safety (E3): SIGKILL leaves no partial archive and the job reads interrupted after a
restart; SIGTERM records a running job as interrupted before the process exits."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import EXPORTBOT, clean_env, console, query


@pytest.fixture
def slow_target(workdir: Path) -> Path:
    """A config whose one target takes seconds to archive (incompressible data)."""
    source = workdir / "big-site"
    source.mkdir()
    for index in range(4):
        (source / f"video-{index}.bin").write_bytes(os.urandom(40 * 1024 * 1024))
    config = workdir / "slow.toml"
    config.write_text(
        'admins = ["console:alice"]\n'
        "[[targets]]\n"
        'name = "big"\n'
        f'source = "{source}"\n'
        f'archive_dir = "{workdir / "archives"}"\n'
    )
    return config


def _start_run(workdir: Path, config: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [EXPORTBOT, "console", "--user", "alice", "--config", str(config)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=workdir,
        env=clean_env(),
    )
    assert process.stdin is not None
    process.stdin.write("run big\n")
    process.stdin.flush()
    _wait_for_state(workdir / "var" / "exportbot.db", "running")
    return process


def _wait_for_state(db: Path, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db.exists():
            try:
                if query(db, f"SELECT 1 FROM jobs WHERE state = '{state}'"):
                    return
            except Exception:  # the schema may not exist yet
                pass
        time.sleep(0.05)
    raise AssertionError(f"no job reached {state} within {timeout} s")


def test_sigkill_mid_run_leaves_no_partial_archive_and_the_job_reads_interrupted(
    workdir: Path, slow_target: Path
) -> None:
    process = _start_run(workdir, slow_target)
    time.sleep(0.5)  # well inside the archive's writing
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)  # also closes the pipes
    leftovers = list((workdir / "archives").iterdir()) if (workdir / "archives").exists() else []
    assert [p.name for p in leftovers if not p.name.endswith(".part")] == []
    after = console(workdir, "alice", "status #1\n", "--config", str(slow_target))
    assert "Job #1 · big — interrupted" in after.stdout
    assert list((workdir / "archives").glob("*")) == []  # any .part was swept at start


def test_sigterm_records_the_running_job_as_interrupted(workdir: Path, slow_target: Path) -> None:
    process = _start_run(workdir, slow_target)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    states = query(workdir / "var" / "exportbot.db", "SELECT state, error FROM jobs")
    assert states == [("interrupted", None)]
    assert list((workdir / "archives").glob("*")) == []
