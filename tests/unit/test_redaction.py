"""Redaction (G3) on the corpus of secret shapes: every secret goes, ordinary text stays."""

from __future__ import annotations

import pytest

from core.safety.redaction import REDACTED, redact
from tests.data.secret_corpus import READABLE, SHAPES, Shape


@pytest.mark.parametrize("shape", SHAPES, ids=[s.name for s in SHAPES])
def test_no_secret_of_the_corpus_survives_redaction(shape: Shape) -> None:
    redacted = redact(shape.line)
    assert not [s for s in shape.secrets if s in redacted], redacted


def test_the_corpus_holds_at_least_forty_shapes() -> None:
    assert len(SHAPES) >= 40
    assert len({s.name for s in SHAPES}) == len(SHAPES)


@pytest.mark.parametrize("text", READABLE)
def test_text_that_is_not_secret_comes_through_unchanged(text: str) -> None:
    assert redact(text) == text


def test_a_password_holding_at_signs_is_cut_up_to_the_last_one_before_the_host() -> None:
    assert (
        redact("https://backup:p@ss@files.example.net/site-a")
        == f"https://backup:{REDACTED}@files.example.net/site-a"
    )


def test_a_home_directory_keeps_its_path_but_not_its_owner() -> None:
    assert redact("open /home/jdoe42/.ssh/id_rsa: denied") == "open ~/.ssh/id_rsa: denied"
    assert redact(r"C:\Users\kw\AppData\x.conf") == r"~\AppData\x.conf"
    assert redact("/root/.aws/credentials") == "~/.aws/credentials"


def test_what_is_around_a_secret_stays_readable() -> None:
    assert redact("mysqldump --password hunter3 site") == f"mysqldump --password {REDACTED} site"
    assert redact("Authorization: Token abcdef0123456789") == f"Authorization: Token {REDACTED}"
    assert redact("key sk_live_51H8xYzAbCdEfGhIjKlMnOpQrStUvWxYz0 refused") == (
        f"key {REDACTED} refused"
    )
