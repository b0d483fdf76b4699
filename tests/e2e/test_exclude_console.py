"""`exclude` in the console subprocess (D2): the preview with its numbered presets, a preset
added by number into a schedule draft, approved by someone else, and the next archive without
what it excludes."""

from __future__ import annotations

import tarfile
from pathlib import Path

from tests.e2e.conftest import console, query

DRAFT = 'schedule draft demo --cron "0 2 * * *" --tz UTC\n'


def test_a_preset_added_by_number_goes_through_review_and_leaves_the_video_out(
    workdir: Path,
) -> None:
    alice = console(
        workdir,
        "alice",
        "exclude demo --over 3\n"
        "exclude demo add 6 --over 3\n" + DRAFT + "exclude demo add 6 --over 3\n"
        "exclude demo add 6 --over 3\n"
        "schedule submit #1\n",
    )
    assert alice.returncode == 0, alice.stderr
    out = alice.stdout
    # The command's answer, then the result: the demo's scan is done within the first
    # interval, so no "Scanning demo… 0 files" line comes first (it used to, before the answer).
    answer = out.index("Scanning demo's files to preview each preset.")
    assert answer < out.index("Exclusions for demo — Scanned")
    assert "Scanning demo… " not in out
    assert "1. node-modules: Node.js packages" in out and "— already excluded" in out
    assert "6. large-media: Files over 3 MB" in out
    assert "`:larger-than=3MB` — would leave out 1 file, 3.1 MB" in out
    assert "type exclude demo add <number or name>" in out
    assert "demo has no schedule yet, so there is nothing to add an exclusion to." in out
    assert "Added `:larger-than=3MB` to draft #1 of demo's schedule." in out
    assert "Next: schedule submit #1, then a reviewer approves it." in out
    assert "The large-media preset is already excluded from demo (in your draft #1)" in out
    db = workdir / "var" / "exportbot.db"
    assert query(db, "SELECT version, exclude FROM drafts") == [(2, '[":larger-than=3MB"]')]

    carol = console(workdir, "carol", "schedule review #1 approve\n")
    assert "approved and active" in carol.stdout, carol.stdout
    run = console(workdir, "alice", "run demo\n")
    assert run.returncode == 0, run.stderr
    [archive] = (workdir / "var" / "archives").glob("demo-*.tar.gz")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "index.html" in names and "media" in names
    assert "media/intro-video.mp4" not in names
    assert not any(n.startswith(("node_modules", ".cache")) for n in names)


def test_exclude_refuses_a_reviewer_and_answers_garbage_clearly(workdir: Path) -> None:
    carol = console(workdir, "carol", "exclude demo\nexclude demo add 99\n")
    assert carol.returncode == 0, carol.stderr
    assert carol.stdout.count("“draft” capability on demo") == 2
    alice = console(
        workdir, "alice", "exclude demo add 99\nexclude nowhere\nexclude demo add\x07 logs\n"
    )
    assert "No preset is called 99." in alice.stdout
    assert "nowhere" in alice.stdout
    assert "Traceback" not in alice.stdout + alice.stderr
    assert query(workdir / "var" / "exportbot.db", "SELECT count(*) FROM drafts") == [(0,)]
