"""`exportbot report` run as a process against the loopback stand-in of the job-event API,
which checks every signature itself (tests/adapters/api_standin.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.adapters.api_standin import running

ROOT = Path(__file__).resolve().parents[2]
KEY = "cron-db.s3cr3tKeyMaterial0123456789"
KEYS = {"cron-db": KEY}
PY = sys.executable


@dataclass(frozen=True)
class Ran:
    status: int
    stdout: str
    stderr: str


def _env(url: str | None, key: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPORTBOT_")}
    env.update(PYTHONPATH=str(ROOT), LANG="C.UTF-8")
    if url is not None:
        env["EXPORTBOT_API_URL"] = url
    if key is not None:
        env["EXPORTBOT_API_KEY"] = key
    return env


async def _start(
    cwd: Path, *args: str, url: str | None, key: str | None = KEY
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        PY,
        "-m",
        "bot.cli",
        "report",
        *args,
        cwd=cwd,
        env=_env(url, key),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def report(cwd: Path, *args: str, url: str | None, key: str | None = KEY) -> Ran:
    process = await _start(cwd, *args, url=url, key=key)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_success_is_started_then_finished_with_the_same_run_id(tmp_path: Path) -> None:
    async with running(KEYS) as api:
        ran = await report(
            tmp_path, "--target", "db", "--", PY, "-c", "print('dumped 3 tables')", url=api.url
        )
    assert ran.status == 0
    assert "dumped 3 tables" in ran.stdout  # the user still sees the output
    assert ran.stderr == ""
    assert all(c.verified for c in api.calls)
    [start] = api.accepted("/api/v1/targets/db/runs")
    [finish] = api.accepted("/finish")
    rid = start.body["rid"]
    assert finish.path == f"/api/v1/targets/db/runs/{rid}/finish"
    assert start.key_name == "cron-db"
    assert start.body["host"] == socket.gethostname()
    assert start.body["command"].startswith(PY) and "-c" in start.body["command"]
    assert finish.body["exit_status"] == 0
    assert 0 <= finish.body["duration"] < 60
    assert "dumped 3 tables" in finish.body["log_tail"]


async def test_a_failure_keeps_its_status_and_its_secrets_are_not_sent(tmp_path: Path) -> None:
    script = (
        "import sys; print('connecting with password=hunter2hunter2');"
        "print('ERROR: disk full', file=sys.stderr); sys.exit(3)"
    )
    async with running(KEYS) as api:
        ran = await report(
            tmp_path,
            "--target",
            "db",
            "--",
            PY,
            "-c",
            script,
            "--password=topsecretvalue",
            url=api.url,
        )
    assert ran.status == 3
    assert "ERROR: disk full" in ran.stderr  # stderr still goes to stderr
    [start] = api.accepted("/runs")
    [finish] = api.accepted("/finish")
    assert "topsecretvalue" not in start.body["command"]
    assert finish.body["exit_status"] == 3
    tail = finish.body["log_tail"]
    assert "ERROR: disk full" in tail and "[redacted]" in tail
    assert "hunter2hunter2" not in tail


async def test_server_down_the_command_still_runs_and_keeps_its_status(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    marker = tmp_path / "ran"
    script = f"open({str(marker)!r}, 'w').write('x'); print('backed up'); raise SystemExit(5)"
    ran = await report(tmp_path, "--target", "db", "--", PY, "-c", script, url=url)
    assert ran.status == 5
    assert marker.exists()
    assert "backed up" in ran.stdout
    assert "could not report the start" in ran.stderr and "running the command anyway" in ran.stderr
    assert "could not report the end" in ran.stderr and "exit status 5 kept" in ran.stderr


async def test_a_brief_outage_at_start_is_retried(tmp_path: Path) -> None:
    async with running(KEYS) as api:
        api.failures.extend([503, 502])
        ran = await report(tmp_path, "--target", "db", "--", PY, "-c", "pass", url=api.url)
    assert ran.status == 0
    starts = [c for c in api.calls if c.path.endswith("/runs")]
    assert [c.status for c in starts] == [503, 502, 201]
    assert len({c.body["rid"] for c in starts}) == 1  # the same run id: the server dedups
    assert len(api.accepted("/finish")) == 1
    assert ran.stderr == ""


async def test_a_refused_start_is_not_retried_and_the_run_is_reported_at_its_end(
    tmp_path: Path,
) -> None:
    async with running(KEYS) as api:
        api.failures.append(404)
        ran = await report(tmp_path, "--target", "nope", "--", PY, "-c", "pass", url=api.url)
    assert ran.status == 0
    assert [c.status for c in api.calls if c.path.endswith("/runs")] == [404]
    assert "404" in ran.stderr and "running the command anyway" in ran.stderr
    [one_shot] = api.accepted("/api/v1/targets/nope/report")
    assert one_shot.body["exit_status"] == 0 and one_shot.body["host"]


async def test_a_wrong_key_is_said_and_the_command_runs(tmp_path: Path) -> None:
    async with running(KEYS) as api:
        ran = await report(
            tmp_path, "--target", "db", "--", PY, "-c", "print('ok')", url=api.url, key="cron-db.x"
        )
    assert ran.status == 0 and "ok" in ran.stdout
    assert api.calls and not any(c.verified for c in api.calls)
    assert "401" in ran.stderr


async def test_a_signal_exit_is_128_plus_the_signal(tmp_path: Path) -> None:
    script = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    async with running(KEYS) as api:
        ran = await report(tmp_path, "--target", "db", "--", PY, "-c", script, url=api.url)
    assert ran.status == 128 + signal.SIGKILL
    [finish] = api.accepted("/finish")
    assert finish.body["exit_status"] == 128 + signal.SIGKILL


async def test_sigterm_to_the_wrapper_reaches_the_command_and_is_reported(tmp_path: Path) -> None:
    script = "import time; print('started', flush=True); time.sleep(30)"
    async with running(KEYS) as api:
        process = await _start(tmp_path, "--target", "db", "--", PY, "-c", script, url=api.url)
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line.strip() == b"started"
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 128 + signal.SIGTERM
    [finish] = api.accepted("/finish")
    assert finish.body["exit_status"] == 128 + signal.SIGTERM


async def test_missing_key_runs_the_command_and_says_so(tmp_path: Path) -> None:
    async with running(KEYS) as api:
        ran = await report(
            tmp_path, "--target", "db", "--", PY, "-c", "raise SystemExit(4)", url=api.url, key=None
        )
    assert ran.status == 4
    assert "EXPORTBOT_API_KEY" in ran.stderr and "running the command anyway" in ran.stderr
    assert api.calls == []


async def test_a_key_file_is_read(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    async with running(KEYS) as api:
        ran = await report(
            tmp_path,
            "--target",
            "db",
            "--key-file",
            str(key_file),
            "--",
            PY,
            "-c",
            "pass",
            url=api.url,
            key=None,
        )
    assert ran.status == 0
    assert len(api.accepted("/finish")) == 1 and all(c.verified for c in api.calls)


async def test_a_command_not_found_is_127_and_reported(tmp_path: Path) -> None:
    async with running(KEYS) as api:
        ran = await report(tmp_path, "--target", "db", "--", "no-such-tool-xyz", url=api.url)
    assert ran.status == 127
    assert "cannot run 'no-such-tool-xyz'" in ran.stderr
    [finish] = api.accepted("/finish")
    assert finish.body["exit_status"] == 127
    assert "no-such-tool-xyz" in finish.body["log_tail"]


async def test_the_tail_is_the_last_100_kb(tmp_path: Path) -> None:
    script = "import sys\nfor i in range(6000): print(f'line {i:05d} ' + 'x' * 40)\nprint('END')"
    async with running(KEYS) as api:
        ran = await report(tmp_path, "--target", "db", "--", PY, "-c", script, url=api.url)
    assert ran.status == 0
    assert ran.stdout.count("\n") == 6001  # everything reached the terminal
    tail = api.accepted("/finish")[0].body["log_tail"]
    assert len(tail.encode()) <= 100_000
    assert tail.rstrip().endswith("END") and "line 00000" not in tail


async def test_a_long_command_line_is_cut_to_what_the_api_accepts(tmp_path: Path) -> None:
    async with running(KEYS) as api:
        ran = await report(
            tmp_path, "--target", "db", "--", PY, "-c", "pass", "x" * 5000, url=api.url
        )
    assert ran.status == 0 and ran.stderr == ""
    [start] = api.accepted("/runs")
    assert len(start.body["command"]) == 2000 and start.body["command"].endswith("…")
    assert len(api.accepted("/finish")) == 1


async def test_usage_errors_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    script = f"open({str(marker)!r}, 'w')"
    no_target = await report(tmp_path, "--", PY, "-c", script, url=None)
    no_command = await report(tmp_path, "--target", "db", url=None)
    assert no_target.status == no_command.status == 2
    assert "--target" in no_target.stderr and "after `--`" in no_command.stderr
    assert not marker.exists()
    assert "Traceback" not in no_target.stderr + no_command.stderr
