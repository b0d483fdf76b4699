"""`exportbot serve`: health and readiness routes, and a clean exit on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.e2e.conftest import EXPORTBOT, clean_env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, json.loads(response.read())


def wait_until_ready(port: int, process: subprocess.Popen[str]) -> tuple[int, dict[str, str]]:
    """`/readyz`'s first answer from a `serve` just started (30 s at most, or its exit)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return _get(f"http://127.0.0.1:{port}/readyz")
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise
            time.sleep(0.1)


def test_serve_answers_health_and_readiness_then_stops_cleanly_on_sigterm(workdir: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [EXPORTBOT, "serve", "--port", str(port)],
        cwd=workdir,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status, body = wait_until_ready(port, process)
        assert (status, body) == (200, {"status": "ready", "database": "ok", "scheduler": "leader"})
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, {"status": "ok"})
        assert (workdir / "var" / "exportbot.db").exists()  # migrated on first start
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "exportbot ready: targets demo" in stderr
    assert "Traceback" not in stderr
