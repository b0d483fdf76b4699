"""The output tail `exportbot report` sends: the last 100 KB, whole characters, redacted."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.report import Tail
from core.safety.redaction import redact


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=300), max_size=60), limit=st.integers(1, 500))
def test_the_tail_is_the_last_bytes_written_in_any_chunking(
    chunks: list[bytes], limit: int
) -> None:
    tail = Tail(limit)
    for chunk in chunks:
        tail.add(chunk)
    whole = b"".join(chunks)
    text = tail.text()
    assert len(text.encode()) <= limit
    end = whole[-limit:]
    if end.isascii() and redact(end.decode()) == end.decode():  # nothing to decode or redact
        assert text.encode() == end


def test_a_character_cut_by_the_limit_is_dropped_not_mangled() -> None:
    tail = Tail(5)
    tail.add(("é" * 10).encode())  # 20 bytes
    assert tail.text() == "éé"  # 4 of the last 5 bytes: the half character before is dropped


def test_secrets_in_the_tail_are_redacted() -> None:
    tail = Tail(1000)
    for line in ("backing up\n", "token=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", "done\n"):
        tail.add(line.encode())
    text = tail.text()
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in text
    assert text.startswith("backing up\n") and text.endswith("done\n") and "[redacted]" in text


def test_two_streams_cut_mid_line_keep_their_lines_whole_and_secrets_redacted() -> None:
    # A run seen once: stdout's line arrived in two chunks with stderr's line between them,
    # and the tail read "password=hunter2hunter2ERROR: disk full": one line, mangled.
    tail = Tail(1000)
    tail.add(b"connecting with password=hunter2", "stdout")
    tail.add(b"ERROR: disk full\n", "stderr")
    tail.add(b"hunter2\n", "stdout")
    text = tail.text()
    assert "ERROR: disk full\n" in text
    assert "connecting with password=[redacted]\n" in text
    assert "hunter2" not in text


def test_a_line_left_unfinished_by_each_stream_is_kept_on_lines_of_its_own() -> None:
    tail = Tail(1000)
    tail.add(b"half of stdout", "stdout")
    tail.add(b"half of stderr", "stderr")
    assert tail.text().splitlines() == ["half of stdout", "half of stderr"]
