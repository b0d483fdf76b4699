"""`exportbot serve` with JSON logs and a metrics token, as an operator runs it: every line
it writes is one JSON object, and /metrics answers only with the token."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import EXPORTBOT, clean_env
from tests.e2e.test_serve import _free_port, wait_until_ready

TOKEN = "e2e-scrape-token-5d1f"


def _metrics(port: int, authorization: str | None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")
    if authorization is not None:
        request.add_header("Authorization", authorization)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_serve_writes_json_lines_and_guards_its_metrics_with_the_token(workdir: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [EXPORTBOT, "serve", "--port", str(port)],
        cwd=workdir,
        env=clean_env(EXPORTBOT_LOG_FORMAT="json", EXPORTBOT_METRICS_TOKEN=TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_ready(port, process)
        assert _metrics(port, None) == (401, "a bearer token is needed\n")
        assert _metrics(port, "Bearer not-it")[0] == 401
        status, text = _metrics(port, f"Bearer {TOKEN}")
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert status == 200
    families = {family.name for family in text_string_to_metric_families(text)}
    assert {"exportbot_commands", "exportbot_scheduler_leader", "exportbot_jobs_active"} <= families
    written = [json.loads(line) for line in stderr.splitlines()]  # each line is JSON
    assert any(line["message"].startswith("exportbot ready") for line in written)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in written)
    assert TOKEN not in stderr
