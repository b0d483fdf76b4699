"""`exportbot report`'s arguments as a door: whatever is typed before `--`, the answer is the
command's status, a usage error (2) or the help (0), never a traceback; with nothing after
`--`, nothing runs."""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.report import report_main
from tests.hostile.chat_shapes import HOSTILE_TEXT

HOSTILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FLAGS = ["--target", "--url", "--key-file", "-h", "--help", "--targ", "-", "--target="]
WORDS = st.one_of(st.sampled_from(FLAGS), HOSTILE_TEXT, st.text(max_size=30)).filter(
    lambda w: w != "--" and "\x00" not in w
)
URLS = st.one_of(
    st.none(),
    st.sampled_from(
        ["", "ftp://x", "http://", "http://[::1", "http://h:port", "http://127.0.0.1:1"]
    ),
    HOSTILE_TEXT,
)
QUIET = [sys.executable, "-c", "raise SystemExit(7)"]


@HOSTILE
@given(
    options=st.one_of(
        st.lists(WORDS, max_size=6), st.lists(WORDS, max_size=3).map(lambda w: ["--target", *w])
    ),
    runs=st.booleans(),
    url=URLS,
)
@example(options=["--target", "db"], runs=True, url="http://[::1")  # urlsplit raises on it
@example(options=["--target", "db"], runs=True, url="http://h:port")
@example(options=["--target", "\ud800\udcff"], runs=True, url="http://127.0.0.1:1")
def test_any_arguments_end_in_a_status_never_a_traceback(
    options: list[str], runs: bool, url: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {} if url is None else {"EXPORTBOT_API_URL": url, "EXPORTBOT_API_KEY": "k.s"}
    argv = [*options, "--", *QUIET] if runs else options
    try:
        status = report_main(argv, environ)
    except SystemExit as leaving:
        status = leaving.code if isinstance(leaving.code, int) else 2
        assert status in (0, 2)
    else:
        assert runs and status == 7  # only a parsed command line runs, and its status is kept
    err = capsys.readouterr().err
    assert "Traceback" not in err
