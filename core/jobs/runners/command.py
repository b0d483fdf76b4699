"""Run a target's command (argv, no shell) with a timeout, cancellation and a stderr tail."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from enum import Enum
from typing import IO

from core.domain.model import TargetSpec
from core.jobs.runners.base import CancelToken, ProgressCallback, RunCancelled, RunFailed, RunResult

TAIL_LINES = 20  # stderr lines kept for the user
MAX_LINE = 500  # characters kept of one stderr line
POLL_SECONDS = 0.2  # how often the cancel token and the deadline are checked
KILL_GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL
_READ_LIMIT = 8192  # bytes per readline: a line without newlines cannot fill memory


class CommandRunner:
    """Runs a command target. Its process group is killed on cancel or timeout."""

    def __init__(self, spec: TargetSpec, *, kill_grace: float = KILL_GRACE_SECONDS) -> None:
        self.spec = spec
        self._kill_grace = kill_grace

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        spec = self.spec
        if not spec.command:
            raise RunFailed(f"target {spec.name} has no command")
        if token.cancelled:
            raise RunCancelled(token.reason)
        argv = list(spec.command)
        cwd = spec.workdir or None
        if cwd is not None and not os.path.isdir(cwd):
            raise RunFailed(f"working folder {cwd} does not exist")
        env = dict(os.environ)
        env.update(spec.env)
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group, so we can stop its children
            )
        except FileNotFoundError:
            raise RunFailed(f"command not found: {argv[0]}") from None
        except PermissionError:
            raise RunFailed(f"command not executable: {argv[0]}") from None
        except OSError as error:
            raise RunFailed(f"cannot start {argv[0]}: {error.strerror}") from None

        assert process.stderr is not None
        tail = _Tail()
        reader = threading.Thread(
            target=tail.read, args=(process.stderr,), name=f"stderr-job{job_id}", daemon=True
        )
        reader.start()
        try:
            code = self._wait(process, token)
        finally:
            if process.returncode is None:  # an unexpected error while waiting
                self._stop(process)
            # Normally instant; a background grandchild still holding stderr must not hang us.
            reader.join(timeout=2.0)
        output = tail.text()
        if code is _Stopped.CANCELLED:
            raise RunCancelled(token.reason)
        if code is _Stopped.TIMED_OUT:
            raise RunFailed(_with_tail(f"timed out after {spec.timeout_seconds:g} s", output))
        if code < 0:
            raise RunFailed(_with_tail(f"killed by signal {_signal_name(-code)}", output))
        if code > 0:
            raise RunFailed(_with_tail(f"exited with status {code}", output))
        return RunResult(output_tail=output)

    def _wait(self, process: subprocess.Popen[bytes], token: CancelToken) -> int | _Stopped:
        """The exit status, or why we stopped the process (it is then gone)."""
        deadline = time.monotonic() + self.spec.timeout_seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop(process)
                return _Stopped.TIMED_OUT
            try:
                return process.wait(timeout=min(POLL_SECONDS, remaining))
            except subprocess.TimeoutExpired:
                pass
            if token.cancelled:
                self._stop(process)
                return _Stopped.CANCELLED

    def _stop(self, process: subprocess.Popen[bytes]) -> None:
        """SIGTERM the group, SIGKILL it after the grace period, and reap the child."""
        _signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=self._kill_grace)
        # Also reaches grandchildren that ignored SIGTERM after the leader exited.
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


class _Stopped(Enum):
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class _Tail:
    """The last stderr lines, filled by a reader thread, read once the process is done."""

    def __init__(self) -> None:
        self._lines: deque[str] = deque(maxlen=TAIL_LINES)
        self._lock = threading.Lock()  # a lingering reader may still append while we read

    def read(self, stream: IO[bytes]) -> None:
        """Read `stream` to its end; the rest of an over-long line is dropped."""
        with stream:
            continued = False
            for raw in iter(lambda: stream.readline(_READ_LIMIT), b""):
                if not continued:
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line.strip():
                        with self._lock:
                            self._lines.append(line[:MAX_LINE])
                continued = not raw.endswith(b"\n")

    def text(self) -> str:
        with self._lock:
            return "\n".join(self._lines)


def _with_tail(message: str, tail: str) -> str:
    return f"{message}: {tail}" if tail else message


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)
