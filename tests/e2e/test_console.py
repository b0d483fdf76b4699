"""The console through a subprocess, on the built-in demo (A4, B1, B2, B3, B6)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tarfile
from pathlib import Path

from tests.e2e.conftest import EXPORTBOT, clean_env, console, query


def test_a_scripted_run_archives_the_demo_without_its_excluded_folders(workdir: Path) -> None:
    done = console(workdir, "alice", "run demo\nstatus\nhistory\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Job #1 · demo started — queued" in out
    assert "Job #1 · demo ended — succeeded" in out
    for label in ("Size:", "Files:", "Duration:", "SHA-256:"):
        assert label in out
    assert "#1 demo — succeeded" in out  # status and history lines
    archives = list((workdir / "var" / "archives").glob("demo-*-job1.tar.gz"))
    assert len(archives) == 1
    with tarfile.open(archives[0]) as archive:
        names = archive.getnames()
        archived_files = sum(1 for member in archive if not member.isdir())
    assert any(name.endswith("index.html") for name in names)
    assert any(name.endswith("media/intro-video.mp4") for name in names)
    assert not any("node_modules" in name for name in names)
    assert not any(".cache" in name for name in names)
    files = query(workdir / "var" / "exportbot.db", "SELECT file_count, size_bytes FROM jobs")
    assert files == [(archived_files, archives[0].stat().st_size)]


def test_roles_decide_who_may_do_what_and_refusals_are_audited(workdir: Path) -> None:
    bob = console(workdir, "bob", "run demo\nrole grant eve admin\n")
    assert "Job #1 · demo ended — succeeded" in bob.stdout
    assert "You need the “manage roles” capability for this." in bob.stdout
    dave = console(workdir, "dave", 'annotate #1 --kind anomaly "media file is large"\nrun demo\n')
    assert "Note added to job #1 · demo" in dave.stdout
    assert "You need the “run” capability on demo for this." in dave.stdout
    zed = console(workdir, "zed", "status\n")
    assert "You need the “view” capability for this." in zed.stdout
    alice = console(workdir, "alice", "status #1\n")
    assert "[anomaly] media file is large — dave" in alice.stdout
    refused = query(
        workdir / "var" / "exportbot.db",
        "SELECT actor, action FROM audit_log WHERE outcome = 'refused' ORDER BY id",
    )
    assert refused == [
        ("console:bob", "role grant"),
        ("console:dave", "run"),
        ("console:zed", "status"),
    ]


def test_unknown_input_gets_a_short_reply_never_a_traceback(workdir: Path) -> None:
    done = console(workdir, "alice", 'stauts\nrun "demo\nannotate\n')
    assert done.returncode == 0
    assert "Did you mean: status?" in done.stdout
    assert 'A quote (") is opened but never closed.' in done.stdout
    assert done.stdout.count("Type help for the list of commands.") == 3
    assert "Traceback" not in done.stdout + done.stderr


def test_french_replies_follow_the_locale(workdir: Path) -> None:
    done = console(workdir, "dave", "run demo\n", "--locale", "fr")
    assert "Il vous faut la capacité « lancer » sur demo pour cela." in done.stdout


def test_french_replies_use_french_spacing_numbers_and_plurals(workdir: Path) -> None:
    """Issue 17: U+202F before `: ; ? !`, a decimal comma, agreeing plurals; English as it was."""
    assert console(workdir, "alice", "run demo\n").returncode == 0
    done = console(workdir, "bob", "status #1\nstauts\nstatus no-such\nhistory\n", "--locale", "fr")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Cible\u202f: demo\n" in out
    assert "Vouliez-vous dire\u202f: status\u202f?" in out
    assert "Il n'y a pas de cible « no-such ». Cibles\u202f: demo." in out
    [(files, size)] = query(
        workdir / "var" / "exportbot.db", "SELECT file_count, size_bytes FROM jobs"
    )
    assert isinstance(files, int) and isinstance(size, int) and files > 1
    assert f"Fichiers\u202f: {files}\n" in out
    assert re.search(rf"· {size / 1e6:.1f} Mo · {files} fichiers ·".replace(".", ","), out)
    assert not re.search(r"[ \u00a0][:;?!](\s|$)", out)  # no plain space before a high mark
    english = console(workdir, "alice", "status #1\nstauts\n").stdout
    assert "Target: demo\n" in english and "Did you mean: status?" in english
    assert "\u202f" not in english


def test_a_bad_configuration_names_the_key_and_exits_non_zero(workdir: Path) -> None:
    config = workdir / "bad.toml"
    config.write_text('[[targets]]\nname = "x"\nkind = "archive"\n')
    import subprocess

    done = subprocess.run(
        [EXPORTBOT, "console", "--config", str(config)],
        input="",
        capture_output=True,
        text=True,
        cwd=workdir,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 2
    assert "targets.0: an archive target needs 'source'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_reader_that_leaves_early_ends_the_script_quietly(workdir: Path) -> None:
    """`exportbot console < script | head -1`: no traceback, no later lines run."""
    process = subprocess.Popen(
        [EXPORTBOT, "console", "--user", "alice"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=workdir,
        env=clean_env(),
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"run demo\n" + b"status\n" * 200 + b"run demo\n")
    process.stdin.close()
    assert process.stdout.readline().startswith(b"Job #1")
    process.stdout.close()  # the reader leaves, as `head -1` does
    assert process.wait(timeout=60) == 141
    assert process.stderr is not None
    with process.stderr:
        errors = process.stderr.read().decode()
    assert "Traceback" not in errors and "BrokenPipe" not in errors, errors
    assert query(workdir / "var" / "exportbot.db", "SELECT id FROM jobs") == [(1,)]


def test_a_number_that_is_not_ascii_digits_is_named_and_the_script_goes_on(
    workdir: Path,
) -> None:
    big = "9" * 5000
    done = console(workdir, "alice", f"status ²\nalerts retry ²\nalerts retry {big}\nrun demo\n")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "“²” is not a valid job-or-target name." in done.stdout
    assert "<delivery> needs a whole number, not “²”." in done.stdout
    assert done.stdout.count("needs a whole number") == 2
    assert "Job #1 · demo ended — succeeded" in done.stdout  # the lines after still ran
    invalid = query(
        workdir / "var" / "exportbot.db",
        "SELECT action, outcome FROM audit_log WHERE outcome = 'invalid' ORDER BY id",
    )
    assert invalid == [("invalid", "invalid")] * 3


def test_a_jobs_output_cannot_drive_the_terminal(workdir: Path) -> None:
    # Found by the text-safety property (tests/adapters/test_text_safety.py): the console
    # printed a job's stderr tail as it was, colour codes, screen clears and bidi overrides
    # included.
    loud = (
        "import sys; sys.stderr.write("
        "'\\x1b[31mred\\x1b[0m \\x1b]0;owned\\x07 \\u009b2J \\u202eexe.png\\n'); sys.exit(3)"
    )
    config = workdir / "exportbot.toml"
    config.write_text(
        f'data_dir = "{workdir / "var"}"\n\n[[targets]]\nname = "loud"\nkind = "command"\n'
        f"command = [{json.dumps(sys.executable)}, {json.dumps('-c')}, {json.dumps(loud)}]\n",
        encoding="utf-8",
    )
    done = console(
        workdir, "alice", "run loud\nstatus 1\n", "--config", str(config),
        EXPORTBOT_ADMINS="console:alice",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exited with status 3" in done.stdout, done.stdout
    assert not {"\x1b", "\x07", "\x9b", "\u202e"} & set(done.stdout), repr(done.stdout)
    assert "\ufffd[31mred\ufffd[0m" in done.stdout  # shown, defused
