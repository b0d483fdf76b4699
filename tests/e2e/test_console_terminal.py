"""The console on a real terminal (a pty): prompt, background completion, quit."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.conftest import EXPORTBOT, clean_env


def _read_until(fd: int, needle: str, seen: list[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while needle not in "".join(seen):
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {needle!r}; got:\n{''.join(seen)}")
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen.append(os.read(fd, 65536).decode("utf-8", "replace"))
            except OSError:  # the child closed the terminal
                break
    return "".join(seen)


@contextmanager
def on_a_terminal(command: list[str], cwd: Path) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`command` started on a new pty (as on a person's terminal), and the pty's leader end
    the test reads and types through; killed and closed when the test is done."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=clean_env(TERM="dumb"),
        close_fds=True,
    )
    os.close(follower)
    try:
        yield process, leader
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(leader)


def test_an_interactive_session_prompts_runs_in_the_background_and_quits(workdir: Path) -> None:
    with on_a_terminal([EXPORTBOT, "console", "--user", "bob"], workdir) as (process, leader):
        seen: list[str] = []
        _read_until(leader, "you are bob", seen)
        _read_until(leader, "bob> ", seen)
        os.write(leader, b"run demo\n")
        _read_until(leader, "Job #1 · demo ended — succeeded", seen)
        os.write(leader, b"history\n")
        _read_until(leader, "#1 demo — succeeded", seen)
        os.write(leader, b"quit\n")
        assert process.wait(timeout=30) == 0
    transcript = "".join(seen)
    assert "Job #1 · demo started — queued" in transcript
    assert "Traceback" not in transcript
