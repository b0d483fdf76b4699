"""Schedule drafts through the console subprocess: four eyes, then the active schedule (B5)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import console, query

DRAFT = 'schedule draft demo --cron "0 2 * * *" --tz Europe/Paris --keep 5\n'


def test_a_draft_is_refused_to_its_author_and_activated_by_a_reviewer(workdir: Path) -> None:
    alice = console(workdir, "alice", DRAFT + "schedule submit #1\nschedule review #1 approve\n")
    assert alice.returncode == 0, alice.stderr
    assert "Schedule: 0 2 * * * — At 02:00 (Europe/Paris)" in alice.stdout
    assert "Retention: keep 5" in alice.stdout
    assert "You wrote draft #1; someone else must review it (four eyes)." in alice.stdout
    carol = console(workdir, "carol", "schedule review #1 approve\nschedule show demo\n")
    assert "approved and active" in carol.stdout
    assert "Approved by carol at" in carol.stdout
    assert "Schedule · demo — active" in carol.stdout
    assert "Next runs: " in carol.stdout and "02:00 CE" in carol.stdout
    db = workdir / "var" / "exportbot.db"
    assert query(db, "SELECT version, cron, keep_count, active FROM schedules") == [
        (1, "0 2 * * *", 5, 1)
    ]
    assert query(db, "SELECT kind FROM outbox ORDER BY id") == [
        ("draft.submitted",),
        ("draft.decided",),
    ]
    assert query(
        db, "SELECT actor, action FROM audit_log WHERE outcome = 'refused' ORDER BY id"
    ) == [("console:alice", "schedule review")]


def test_the_submitted_card_says_where_it_went_and_whether_anyone_may_approve(
    workdir: Path,
) -> None:
    demo = console(workdir, "alice", DRAFT + "schedule submit #1\n")
    assert demo.returncode == 0, demo.stderr
    assert "Sent for review here." in demo.stdout  # the console is the conversation
    assert "Schedule draft #1 · demo · version 1 — awaiting review" in demo.stdout
    assert "Nobody but you" not in demo.stdout  # the demo's carol is a reviewer

    alone = workdir / "alone"
    alone.mkdir()
    config = alone / "exportbot.toml"
    config.write_text(
        f'data_dir = "{alone / "var"}"\n\n[[targets]]\nname = "quick"\nkind = "command"\n'
        'command = ["true"]\n',
        encoding="utf-8",
    )
    draft = 'schedule draft quick --cron "0 2 * * *" --tz UTC\nschedule submit #1\n'
    only_alice = console(
        alone, "alice", draft, "--config", str(config), EXPORTBOT_ADMINS="console:alice"
    )
    assert only_alice.returncode == 0, only_alice.stderr
    assert "Nobody but you may approve drafts of quick, so this one cannot be approved" in (
        only_alice.stdout
    )
    assert "role grant <person> reviewer" in only_alice.stdout
    assert query(alone / "var" / "exportbot.db", "SELECT state FROM drafts") == [("submitted",)]
