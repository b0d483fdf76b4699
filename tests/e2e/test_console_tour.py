"""The guided tour (D1) in the console: numbered replies press the tour's buttons; a person at
a terminal is offered it after a first command, once; a skip is remembered across sessions."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.conftest import EXPORTBOT, console, query
from tests.e2e.test_console_terminal import _read_until, on_a_terminal


def test_tour_replays_and_numbered_replies_walk_through_its_four_steps(workdir: Path) -> None:
    done = console(workdir, "bob", "tour\n1\n1\n1\n1\n1\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    steps = [
        "Tour: what a target is — step 1 of 4",
        "Tour: run and status — step 2 of 4",
        "Tour: drafts and review — step 3 of 4",
        "Tour: notes from threads — step 4 of 4",
        "Tour finished",
    ]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "Reply with a number:\n  1. Next\n  2. Skip" in out
    assert "  1. Done" in out
    assert "Start a backup with run demo." in out  # the console's prefix is empty
    # The last "1" came after "Done": no choice left, so it is read as a command.
    assert out.rstrip().endswith("“1” is not a command.\n\nType help for the list of commands.")
    rows = query(workdir / "var" / "exportbot.db", "SELECT principal, state FROM tours")
    assert rows == [("console:bob", "finished")]


def test_skip_by_number_is_remembered(workdir: Path) -> None:
    done = console(workdir, "dave", "tour\n2\n")
    assert "Tour skipped" in done.stdout
    rows = query(workdir / "var" / "exportbot.db", "SELECT principal, state FROM tours")
    assert rows == [("console:dave", "skipped")]


def test_a_scripted_session_gets_no_unsolicited_offer(workdir: Path) -> None:
    done = console(workdir, "alice", "help\n")
    assert "New to exportbot?" not in done.stdout
    assert query(workdir / "var" / "exportbot.db", "SELECT principal FROM tours") == []


def test_a_person_at_a_terminal_is_offered_the_tour_once(workdir: Path) -> None:
    with on_a_terminal([EXPORTBOT, "console", "--user", "carol"], workdir) as (process, leader):
        seen: list[str] = []
        _read_until(leader, "carol> ", seen)
        os.write(leader, b"help\n")
        _read_until(leader, "New to exportbot?", seen)
        _read_until(leader, "2. Skip", seen)
        transcript = "".join(seen)
        assert transcript.index("exportbot commands") < transcript.index("New to exportbot?")
        os.write(leader, b"1\n")
        _read_until(leader, "Tour: what a target is", seen)
        os.write(leader, b"2\n")
        _read_until(leader, "Tour skipped", seen)
        seen.clear()
        os.write(leader, b"status\n")
        _read_until(leader, "carol> ", seen)
        os.write(leader, b"quit\n")
        assert process.wait(timeout=30) == 0
    assert "New to exportbot?" not in "".join(seen)
    with on_a_terminal([EXPORTBOT, "console", "--user", "carol"], workdir) as (process, leader):
        seen = []
        _read_until(leader, "carol> ", seen)
        os.write(leader, b"help\n")
        _read_until(leader, "exportbot commands", seen)
        _read_until(leader, "carol> ", seen)
        os.write(leader, b"quit\n")
        assert process.wait(timeout=30) == 0
    assert "New to exportbot?" not in "".join(seen)
    rows = query(workdir / "var" / "exportbot.db", "SELECT principal, state FROM tours")
    assert rows == [("console:carol", "skipped")]
