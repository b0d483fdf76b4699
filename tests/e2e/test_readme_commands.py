"""The README's commands, run as written in a copy of the repository: `make run`, and the
three that try the Teams side locally with the Agents Playground.

The copy holds the tracked files only (what a fresh clone has). Its `.venv` is this suite's
own environment, linked, with the install stamp kept newer than `pyproject.toml`, so `make`
runs the console instead of installing again (a real install is what `.ci/run` does first).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env
from tests.e2e.playground import (
    Running,
    chromium_page,
    require_clients,
    send,
    started,
    wait_for_log,
)
from tests.e2e.test_console_terminal import _read_until, on_a_terminal

REPOSITORY = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
STAMP = ".installed-stamp"


@pytest.fixture
def fresh_copy(tmp_path: Path) -> Path:
    """The tracked files of the working tree, and this suite's virtual environment."""
    if not (VENV / STAMP).is_file() or not shutil.which("make"):
        pytest.skip(f"the suite does not run from `make test`'s environment ({VENV / STAMP})")
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPOSITORY, capture_output=True, check=True
    ).stdout
    copy = tmp_path / "exportbot"
    for name in filter(None, listed.decode().split("\0")):
        source = REPOSITORY / name
        if source.is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(VENV)
    stamp = (VENV / STAMP).stat().st_mtime
    os.utime(copy / "pyproject.toml", (stamp - 60, stamp - 60))
    return copy


def _readme_tour() -> list[str]:
    """The lines typed after `alice> ` in the README's console tour, up to the typo."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    tour = readme.split("$ make run\n", 1)[1].split("```", 1)[0]
    lines = [m.group(1).split("  #")[0].strip() for m in re.finditer(r"^alice> (.+)$", tour, re.M)]
    assert lines[0] == "run demo", lines
    return lines


def test_make_run_chats_as_alice_and_plays_the_readme_tour(fresh_copy: Path) -> None:
    with on_a_terminal(["make", "-s", "run"], fresh_copy) as (process, leader):
        seen: list[str] = []
        _read_until(leader, "you are alice", seen)
        for line in _readme_tour():
            _read_until(leader, "alice> ", seen)
            seen.clear()
            os.write(leader, line.encode() + b"\n")
            if line == "run demo":
                _read_until(leader, "Job #1 · demo ended — succeeded", seen)
            elif line == "run dmeo":
                _read_until(leader, "Did you mean: demo?", seen)
            elif line == "2":  # the guided tour's offer, after alice's first command: skipped
                _read_until(leader, "Tour skipped", seen)
            else:
                _read_until(leader, "\r\n\r\n", seen)
                assert "You need the" not in "".join(seen), (line, "".join(seen))
        _read_until(leader, "alice> ", seen)
        os.write(leader, b"quit\n")
        assert process.wait(timeout=30) == 0
    assert "Traceback" not in "".join(seen)


def test_make_run_takes_another_demo_user_as_the_readme_says(fresh_copy: Path) -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    assert "make run WHO=dave" in readme
    result = subprocess.run(
        ["make", "-s", "run", "WHO=dave"],
        input="run demo\nstatus\n",
        cwd=fresh_copy,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "You need the “run” capability on demo for this." in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_make_run_who_carol_approves_the_draft_alice_submitted_as_the_readme_says(
    fresh_copy: Path,
) -> None:
    """Where the README's tour changes person: alice's draft, then `make run WHO=carol`."""
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    drafting = [line for line in _readme_tour() if line.startswith("schedule ")]
    assert [line.split()[1] for line in drafting] == ["draft", "submit"], drafting
    block = readme.split("$ make run WHO=carol\n", 1)[1].split("```", 1)[0]
    carol = [m.group(1).strip() for m in re.finditer(r"^carol> (.+)$", block, re.M)]
    assert carol[-1] == "quit", carol
    shown = [line for line in block.splitlines() if line and not line.startswith("carol> ")]

    def make_run(*who: str, lines: list[str]) -> str:
        result = subprocess.run(
            ["make", "-s", "run", *who],
            input="".join(f"{line}\n" for line in lines),
            cwd=fresh_copy,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
        return result.stdout

    submitted = make_run(lines=drafting)
    assert "Sent for review" in submitted
    approved = make_run("WHO=carol", lines=carol)
    for line in shown:  # what the README shows carol getting
        assert line in approved, (line, approved)
    schedules = subprocess.run(
        [".venv/bin/exportbot", "console", "--user", "alice"],
        input="schedule show demo\n",
        cwd=fresh_copy,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "Schedule · demo — active" in schedules and "console:carol" in schedules


def test_the_readme_tries_teams_locally_in_three_commands(fresh_copy: Path) -> None:
    """`make clients`, `make serve-teams-local`, `make playground`, then `help` in the page."""
    require_clients()
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Try the Teams side locally with the Agents Playground", 1)[1]
    commands = [line.split("#")[0].strip() for line in section.split("```")[1].strip().splitlines()]
    assert commands == ["make clients", "make serve-teams-local", "make playground"], commands
    ports = {8080: "make serve-teams-local", 56150: "make playground"}  # the README's ports
    for port, who in ports.items():
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                pytest.fail(f"127.0.0.1:{port}, which `{who}` uses, is taken by another program")
    # `make clients` installs the copy's own node_modules: `npm ci` first empties the folder it
    # installs into, so a link to this checkout's would have emptied ours.
    made = subprocess.run(
        ["make", "-s", "clients"], cwd=fresh_copy, env=clean_env(), capture_output=True, timeout=300
    )
    assert made.returncode == 0, made.stderr.decode(errors="replace")
    with (
        started(
            ["make", "-s", "serve-teams-local"], fresh_copy, clean_env(), fresh_copy / "serve.log"
        ) as bot,
        started(["make", "-s", "playground"], fresh_copy, clean_env(), fresh_copy / "ui.log") as ui,
    ):
        wait_for_log(Running(bot, fresh_copy / "serve.log", 8080), r"exportbot ready", 60)
        wait_for_log(Running(ui, fresh_copy / "ui.log", 56150), r"Listening on 56150", 60)
        with chromium_page(fresh_copy / "chromium-profile") as page:
            page.set_default_timeout(30_000)
            page.goto("http://127.0.0.1:56150/")
            send(page, "help")
            page.get_by_text("export run <target> —").wait_for()
    assert "Traceback" not in (fresh_copy / "serve.log").read_text(errors="replace")
