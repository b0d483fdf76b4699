"""The composition root on a real SQLite database: configured grants follow the configuration."""

from __future__ import annotations

from pathlib import Path

from bot.bootstrap import open_bot
from bot.config import Settings
from core.domain.capabilities import Role
from core.domain.model import CONFIG_GRANTOR, Grant, Principal


def _settings(tmp_path: Path, admins: list[str]) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=admins,
        targets=[{"name": "site", "source": str(tmp_path)}],  # type: ignore[list-item]
    )


async def test_configured_grants_follow_the_configuration_and_manual_ones_stay(
    tmp_path: Path,
) -> None:
    first = _settings(tmp_path, ["console:ann", "slack:T1:U1"])
    async with open_bot(first) as bot, bot.uow_factory() as uow:
        await uow.grants.add(
            Grant(
                Principal("console", "", "bo"),
                Role.VIEWER,
                "site",
                "console:ann",
                bot.clock.now(),
            )
        )
        await uow.commit()
    async with open_bot(_settings(tmp_path, ["console:ann"])) as bot, bot.uow_factory() as uow:
        grants = {(g.principal.key, g.role, g.granted_by) for g in await uow.grants.all()}
    assert grants == {
        ("console:ann", Role.ADMIN, CONFIG_GRANTOR),
        ("console:bo", Role.VIEWER, "console:ann"),
    }


async def test_a_leftover_partial_archive_is_swept_at_start(tmp_path: Path) -> None:
    archives = tmp_path / "var" / "archives" / "site"
    archives.mkdir(parents=True)
    leftover = archives / ".site-20260101T000000Z-job1.tar.gz.part"
    leftover.write_bytes(b"half an archive")
    kept = archives / "site-20260101T000000Z-job0.tar.gz"
    kept.write_bytes(b"a finished archive")
    async with open_bot(_settings(tmp_path, ["console:ann"])):
        pass
    assert not leftover.exists() and kept.exists()
