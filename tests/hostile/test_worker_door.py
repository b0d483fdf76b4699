"""`exportbot worker --targets …` as a door: any text is either refused with a short message
and status 2 (a bad list, an unknown target, or SQLite, which workers cannot share) — never a
traceback — and a refused start creates nothing (no database, no folder)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main
from tests.hostile.chat_shapes import HOSTILE_TEXT

HOSTILE = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NAMES = st.one_of(
    HOSTILE_TEXT,
    st.lists(st.sampled_from(["demo", "nope", "", " ", ",", "demo ", "-x"]), max_size=5).map(
        ",".join
    ),
)


@HOSTILE
@given(text=NAMES)
def test_any_target_list_is_refused_clearly_and_changes_nothing(
    text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("EXPORTBOT_"):
            monkeypatch.delenv(name)
    try:
        code = main(["worker", f"--targets={text}"])
    except SystemExit as usage:  # argparse's own refusal of a bad argument
        code = usage.code if isinstance(usage.code, int) else 2
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err and err.strip()
    assert len(err) < 2000
    assert list(tmp_path.iterdir()) == []  # no database, no data folder
