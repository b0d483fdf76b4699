"""The command line as a door (G1): generated arguments never end in a traceback.

`main()` runs in this process on a scratch directory; a refused argument is argparse's usage
error (exit 2) or a one-line message with its own status, and nothing is written.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cli import main

ANY_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("\x00\x1b\u202e²"),
    max_size=60,
) | st.sampled_from(["9" * 5000, "2026-01-01", "2026-13-45", "-1", "", "--help"])


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    where = tmp_path_factory.mktemp("cli")
    before = Path.cwd()
    environment = {k: v for k, v in os.environ.items() if k.startswith(("EXPORTBOT_", "SLACK_"))}
    for name in environment:
        del os.environ[name]
    os.chdir(where)
    try:
        yield where
    finally:
        os.chdir(before)
        os.environ.update(environment)


def _run(argv: list[str]) -> tuple[int, str]:
    """Exit status and standard error of `exportbot <argv>`, in this process."""
    errors, output = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(output):
        try:
            status = main(argv)
        except SystemExit as leaving:  # argparse's usage errors and --help
            status = int(leaving.code or 0)
    return status, errors.getvalue()


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(since=ANY_TEXT, until=ANY_TEXT, fmt=ANY_TEXT | st.sampled_from(["csv", "json", "ndjson"]))
def test_audit_export_arguments_are_used_or_refused_in_words(
    scratch: Path, since: str, until: str, fmt: str
) -> None:
    status, errors = _run(["audit", "export", "--since", since, "--until", until, "--format", fmt])
    assert status in (0, 2), errors
    assert "Traceback" not in errors
    if status == 2:
        assert errors.strip(), "a refusal says what was wrong"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.lists(ANY_TEXT, max_size=4))
def test_any_words_after_exportbot_are_refused_in_words(scratch: Path, words: list[str]) -> None:
    if words[:1] in (["serve"], ["console"]):  # these would start the bot
        words = ["manifest", *words[1:]]
    status, errors = _run(words)
    assert status in (0, 2), errors
    assert "Traceback" not in errors


@pytest.mark.parametrize("port", ["99999", "-1", "http", "9" * 5000])
def test_a_port_out_of_range_is_named(scratch: Path, port: str) -> None:
    status, errors = _run(["serve", "--port", port])
    assert status == 2
    assert "port" in errors and "Traceback" not in errors
