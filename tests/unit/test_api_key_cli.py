"""`exportbot api-key create|list|revoke` (#16), run in process on a fresh SQLite database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bot.api_master import MasterKeyError, load_master_key
from bot.cli import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXPORTBOT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("EXPORTBOT_DATA_DIR", str(tmp_path / "var"))
    config = tmp_path / "exportbot.toml"
    config.write_text('[[targets]]\nname = "db"\nkind = "reported"\n')
    monkeypatch.setenv("EXPORTBOT_CONFIG", str(config))
    return tmp_path


def test_a_key_is_printed_once_listed_without_its_secret_and_revoked(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api-key", "create", "--name", "cron-db", "--target", "db"]) == 0
    printed = capsys.readouterr().out.strip()
    name, _, secret = printed.partition(".")
    assert name == "cron-db" and len(secret) == 43  # 32 bytes, base64url without padding
    master = env / "var" / "api-master.key"
    assert stat.S_IMODE(master.stat().st_mode) == 0o600
    assert main(["api-key", "create", "--name", "cron-db"]) == 2  # names are never reused
    assert "exists" in capsys.readouterr().err
    assert main(["api-key", "list"]) == 0
    listed = capsys.readouterr().out
    assert "cron-db" in listed and "targets: db" in listed and secret not in listed
    assert main(["api-key", "revoke", "cron-db"]) == 0
    assert main(["api-key", "revoke", "cron-db"]) == 2
    assert main(["api-key", "list"]) == 0
    assert "REVOKED" in capsys.readouterr().out


def test_a_bad_name_is_refused_and_a_damaged_master_key_is_named(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api-key", "create", "--name", "no spaces"]) == 2
    assert "not a key name" in capsys.readouterr().err
    master = env / "var" / "api-master.key"
    master.parent.mkdir(parents=True, exist_ok=True)
    master.write_text("not base64!\n")
    assert main(["api-key", "create", "--name", "ok"]) == 2
    assert str(master) in capsys.readouterr().err
    with pytest.raises(MasterKeyError):
        load_master_key(master)
