"""CommandRunner with real `python -c` children (never a shell)."""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import TypedDict, Unpack

import pytest

from core.domain.model import TargetKind, TargetSpec
from core.jobs.runners.base import CancelToken, RunCancelled, RunFailed, RunResult
from core.jobs.runners.command import CommandRunner


class Options(TypedDict, total=False):
    """The fields of a command target these tests set."""

    timeout_seconds: float
    workdir: str
    env: tuple[tuple[str, str], ...]


def python(code: str, **options: Unpack[Options]) -> TargetSpec:
    spec = TargetSpec("cmd", TargetKind.COMMAND, command=(sys.executable, "-c", code))
    return replace(spec, **options)


def run(spec: TargetSpec, token: CancelToken | None = None, *, grace: float = 5.0) -> RunResult:
    return CommandRunner(spec, kill_grace=grace).run(1, token or CancelToken(), lambda _p: None)


def is_gone(pid: int, within: float = 2.0) -> bool:
    """Gone or a zombie within `within` seconds: SIGKILL is delivered asynchronously, and the
    container's init may be slow to reap orphans."""
    deadline = time.monotonic() + within
    while True:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in {"Z", "X"}:
                    return True
        except FileNotFoundError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def wait_for_file(path: Path, seconds: float = 5.0) -> str:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return path.read_text()


def test_success_returns_the_stderr_tail_and_ignores_stdout() -> None:
    code = "import sys; print('to stdout'); sys.stderr.write('dumped 3 tables\\ndone\\n')"

    result = run(python(code))

    assert result.output_tail == "dumped 3 tables\ndone"


def test_non_zero_exit_keeps_the_last_twenty_stderr_lines() -> None:
    code = "import sys\nfor i in range(100): print('line', i, file=sys.stderr)\nsys.exit(3)"

    with pytest.raises(RunFailed) as failure:
        run(python(code))

    lines = [f"line {i}" for i in range(80, 100)]
    assert failure.value.detail == "exited with status 3: " + "\n".join(lines)


def test_non_zero_exit_without_stderr_says_only_the_status() -> None:
    with pytest.raises(RunFailed) as failure:
        run(python("raise SystemExit(2)"))

    assert failure.value.detail == "exited with status 2"


def test_over_long_stderr_lines_are_truncated() -> None:
    code = "import sys; sys.stderr.write('x' * 100000 + '\\nlast\\n'); sys.exit(1)"

    with pytest.raises(RunFailed) as failure:
        run(python(code))

    first, last = failure.value.detail.split("\n")
    assert len(first) < 1000
    assert last == "last"


def test_environment_and_working_folder_are_applied(tmp_path: Path) -> None:
    code = "import os, sys; sys.stderr.write(os.getcwd() + ' ' + os.environ['EXPORT_MODE'])"
    spec = python(code, workdir=str(tmp_path), env=(("EXPORT_MODE", "full"),))

    result = run(spec)

    assert result.output_tail == f"{tmp_path} full"
    assert "PATH" in os.environ  # the child also inherited the rest of our environment


def test_timeout_stops_the_command() -> None:
    spec = python("import time; time.sleep(30)", timeout_seconds=0.5)
    started = time.monotonic()

    with pytest.raises(RunFailed) as failure:
        run(spec)

    assert failure.value.detail == "timed out after 0.5 s"
    assert time.monotonic() - started < 5


def test_command_not_found_names_the_program() -> None:
    spec = TargetSpec("cmd", TargetKind.COMMAND, command=("no-such-exporter-xyz", "--all"))

    with pytest.raises(RunFailed) as failure:
        run(spec)

    assert failure.value.detail == "command not found: no-such-exporter-xyz"


def test_missing_working_folder_fails(tmp_path: Path) -> None:
    with pytest.raises(RunFailed) as failure:
        run(python("pass", workdir=str(tmp_path / "nope")))

    assert failure.value.detail == f"working folder {tmp_path / 'nope'} does not exist"


def test_cancellation_kills_the_process_and_its_children(tmp_path: Path) -> None:
    """The child ignores SIGTERM and starts a grandchild: SIGKILL to the group gets both."""
    pids = tmp_path / "pids"
    code = (
        "import os, signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{grandchild.pid}}')\n"
        "time.sleep(60)\n"
    )
    token = CancelToken()
    result: list[BaseException] = []

    def work() -> None:
        try:
            run(python(code), token, grace=0.3)
        except BaseException as error:
            result.append(error)

    worker = threading.Thread(target=work)
    worker.start()
    child, grandchild = (int(pid) for pid in wait_for_file(pids).split())
    started = time.monotonic()
    token.cancel("user asked")
    worker.join(timeout=10)

    assert not worker.is_alive()
    assert time.monotonic() - started < 3
    assert len(result) == 1 and isinstance(result[0], RunCancelled)
    assert is_gone(child)
    assert is_gone(grandchild)


def test_an_already_cancelled_token_starts_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    token = CancelToken()
    token.cancel()

    with pytest.raises(RunCancelled):
        run(python(f"open({str(marker)!r}, 'w')"), token)

    assert not marker.exists()
