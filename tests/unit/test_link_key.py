"""The link key kept in the data folder when EXPORTBOT_LINK_SECRET is not set (G4).

A key made per process made every link in chat history die at each restart, and the link the
console prints for an `audit` export never opened in `serve`.
"""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.api_master import MasterKeyError, load_master_key
from bot.bootstrap import alert_settings
from bot.config import load_settings
from bot.keyfiles import KEY_BYTES, KeyFileError, load_or_create_key
from core.safety.links import export_path, signed_url, verify

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def test_a_link_signed_by_one_process_opens_in_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EXPORTBOT_LINK_SECRET", raising=False)
    console = alert_settings(load_settings(data_dir=str(tmp_path)))
    url = signed_url("http://127.0.0.1:8080", export_path("abc"), console.link_secret, NOW,
                     timedelta(hours=1))  # fmt: skip
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))

    serve = alert_settings(load_settings(data_dir=str(tmp_path)))  # a later process

    assert verify(serve.link_secret, export_path("abc"), query["expires"], query["sig"], NOW)
    other_machine = alert_settings(load_settings(data_dir=str(tmp_path / "elsewhere")))
    assert other_machine.link_secret != serve.link_secret


def test_the_key_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "var" / "link-secret.key"
    key = load_or_create_key(path)

    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_processes_starting_together_end_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "link-secret.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create_key(path), range(32)))
    assert len(keys) == 1


@pytest.mark.parametrize("content", ["", "not hex\n", "abcd\n", "\x00" * 64])
def test_a_file_that_holds_no_key_is_named_never_replaced(tmp_path: Path, content: str) -> None:
    path = tmp_path / "link-secret.key"
    path.write_text(content)

    with pytest.raises(KeyFileError, match=r"link-secret\.key"):
        load_or_create_key(path)
    assert path.read_text() == content


def test_a_folder_that_cannot_hold_the_key_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the folder should be

    with pytest.raises(KeyFileError, match="EXPORTBOT_LINK_SECRET"):
        load_or_create_key(blocker / "link-secret.key")


def test_the_api_master_key_is_kept_the_same_way_and_waits_for_its_writer(
    tmp_path: Path,
) -> None:
    """Two processes making the API's master key at once (a first `api-key create` beside a
    starting `serve`) end with one key: the loser waits for the winner's write rather than
    reading its still-empty file as damaged."""
    path = tmp_path / "api-master.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_master_key(path), range(32)))
    assert len(keys) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("not base64!\n")
    with pytest.raises(MasterKeyError, match="API master key"):
        load_master_key(path)
