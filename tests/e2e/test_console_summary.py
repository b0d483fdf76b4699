"""`summary <job>` in the console through a subprocess, on the built-in demo (F2), and the
history page's link that `history` prints (F3)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import console


def test_summary_says_the_state_and_the_next_step_of_a_job_in_one_sentence(
    workdir: Path,
) -> None:
    done = console(workdir, "alice", "run demo\nsummary #1\nsummary #99\nsummary\nhelp summary\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    said = re.search(
        r"^Job #1 of demo succeeded (just now|\d+ min ago): (\d+) files, .*$", out, re.M
    )
    assert said, out
    assert said.group(0).endswith("; nothing to do.")
    assert re.search(
        r"Job page: http://127\.0\.0\.1:8080/jobs/1\?expires=\d+&sig=[0-9a-f]{64}", out
    )
    assert "There is no job #99." in out
    assert "summary <job>" in out  # the usage, for `summary` alone and in help
    assert "summary #12" in out  # help's example
    assert "Traceback" not in out + done.stderr


def test_history_of_a_target_prints_its_history_page_link(workdir: Path) -> None:
    done = console(workdir, "bob", "run demo\nhistory demo\n")
    assert done.returncode == 0, done.stderr
    link = re.search(
        r"History page of demo: (http://127\.0\.0\.1:8080/targets/demo/history\?expires=\d+"
        r"&sig=[0-9a-f]{64})",
        done.stdout,
    )
    assert link, done.stdout
