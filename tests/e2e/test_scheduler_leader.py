"""Two `serve` processes on one PostgreSQL database, an every-minute schedule: exactly one job
per minute, and when the leader is killed the other takes over within 15 s (B5, E4).

Slow by nature (about two and a half minutes of real time).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import TypedDict

import pytest

from tests.e2e.conftest import EXPORTBOT, clean_env, console

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _role(port: int) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return str(json.loads(response.read())["scheduler"])
    except OSError:
        return None


def _psql(url: str, sql: str) -> list[list[str]]:
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    out = subprocess.run(
        ["psql", plain, "-tAF", "|", "-c", sql], capture_output=True, text=True, check=True
    ).stdout
    return [line.split("|") for line in out.splitlines() if line]


def _wait(condition, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {timeout} s")


class Env(TypedDict):
    """What the consoles and both servers run with (typed, so mypy knows none is `timeout`)."""

    EXPORTBOT_DATABASE_URL: str
    EXPORTBOT_CONFIG: str


def test_two_processes_fire_once_per_minute_and_the_standby_takes_over(
    workdir: Path, pg_database_url: str
) -> None:
    config = workdir / "exportbot.toml"
    config.write_text(
        'admins = ["console:alice"]\n'
        "[[targets]]\n"
        'name = "tick"\n'
        'kind = "command"\n'
        f'command = [{json.dumps(sys.executable)}, "-c", "pass"]\n'
        "[[grants]]\n"
        'principal = "console:carol"\n'
        'role = "reviewer"\n'
    )
    env = Env(EXPORTBOT_DATABASE_URL=pg_database_url, EXPORTBOT_CONFIG=str(config))
    console(
        workdir,
        "alice",
        'schedule draft tick --cron "* * * * *" --tz UTC\nschedule submit #1\n',
        **env,
    )
    approved = console(workdir, "carol", "schedule review #1 approve\n", **env)
    assert "approved and active" in approved.stdout, approved.stdout + approved.stderr

    ports = [_free_port(), _free_port()]
    processes = {
        port: subprocess.Popen(
            [EXPORTBOT, "serve", "--port", str(port)],
            cwd=workdir,
            env=clean_env(**env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for port in ports
    }
    try:
        _wait(lambda: all(_role(p) for p in ports), 30, "both processes answering")
        began = datetime.now().astimezone()
        roles = {p: _role(p) for p in ports}
        # Both answered (_wait above), so no role is None here.
        assert sorted(roles.values()) == ["leader", "standby"], roles  # type: ignore[type-var]
        leader = next(p for p, r in roles.items() if r == "leader")
        standby = next(p for p in ports if p != leader)

        def started_fires() -> int:
            return int(
                _psql(
                    pg_database_url, "SELECT count(*) FROM schedule_fires WHERE outcome = 'started'"
                )[0][0]
            )

        _wait(lambda: started_fires() >= 1, 70, "a first scheduled fire")
        processes[leader].send_signal(signal.SIGKILL)
        processes[leader].communicate(timeout=10)
        takeover = _wait(lambda: _role(standby) == "leader", 15, "the standby taking over")
        before = started_fires()
        try:
            _wait(lambda: started_fires() > before, 75, "a fire by the new leader")
        except AssertionError as missing:  # say what the database holds, to tell why
            raise AssertionError(
                f"{missing}\nfires: {_psql(pg_database_url, 'SELECT * FROM schedule_fires')}"
                f"\njobs: {_psql(pg_database_url, 'SELECT id, state, worker FROM jobs')}"
            ) from None
        remaining = 120 - (datetime.now().astimezone() - began).total_seconds()
        if remaining > 0:
            time.sleep(remaining + 5)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=30)

    fires = _psql(
        pg_database_url, "SELECT fire_time, outcome, job_id FROM schedule_fires ORDER BY fire_time"
    )
    jobs = _psql(
        pg_database_url,
        "SELECT origin_reference FROM jobs WHERE origin_kind = 'schedule' ORDER BY id",
    )
    minutes = [datetime.fromisoformat(f[0]) for f in fires if f[1] == "started"]
    assert len(minutes) >= 2, fires
    assert all(f[2] for f in fires if f[1] == "started"), fires  # every fire has its job
    assert len(jobs) == len(minutes) == len({j[0] for j in jobs})  # one job per minute
    gaps = {(b - a).total_seconds() for a, b in pairwise(minutes)}
    assert gaps <= {60.0}, minutes  # no minute skipped across the takeover
    assert takeover < 15
