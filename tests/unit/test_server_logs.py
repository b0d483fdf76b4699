"""The server's log handler redacts what it writes (G3), in text and in JSON."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bot.logs import configure_logging

TOKEN = "xoxb-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_token_in_a_message_or_a_traceback_is_not_written(
    fmt: str, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("INFO", fmt)
    log = logging.getLogger("exportbot.test")
    log.warning("posting with %s failed", TOKEN)
    try:
        raise RuntimeError(f"refused: Authorization: Bearer {TOKEN}")
    except RuntimeError:
        log.exception("a sender raised")
    written = capsys.readouterr().err
    assert "posting with [redacted] failed" in written
    assert "RuntimeError: refused: Authorization: Bearer [redacted]" in written
    assert "AbCdEfGhIjKl" not in written


def test_what_a_stranger_sent_cannot_forge_a_log_line(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """One line per record: a value with a line break or an escape sequence is shown escaped,
    so it cannot print a fake record (or recolour a terminal) after the real one."""
    configure_logging("INFO", "text")
    forged = "U0X\n2026-12-04 12:00:00,000 INFO bot.app: admin granted to mallory\x1b[2J"
    logging.getLogger("exportbot.test").warning("refused a request from %s", forged)
    written = capsys.readouterr().err
    assert written.count("\n") == 1
    assert "U0X\\n2026-12-04" in written and "\x1b" not in written
