"""`stats` on the console (C6): the sparklines in the reply, and the chart written under the
data directory, its path printed."""

from __future__ import annotations

import struct
from datetime import timedelta
from pathlib import Path

from adapters.console import ConsoleSession
from bot.bootstrap import open_bot
from bot.charts import PNG_HEIGHT, PNG_WIDTH
from bot.config import Settings
from tests.contract.seeds import finished_job


async def test_the_console_prints_the_sparklines_and_where_it_wrote_the_chart(
    tmp_path: Path,
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        data_dir=str(tmp_path / "var"),
        admins=["console:alice"],
        targets=[{"name": "db", "kind": "command", "command": ["true"]}],  # type: ignore[list-item]
        scheduler=False,
    )
    async with open_bot(settings) as bot:
        now = bot.clock.now()
        for ago, seconds in ((timedelta(days=1), 20), (timedelta(minutes=5), 40)):
            await finished_job(bot.uow_factory, "db", now - ago, seconds, None)
        charts = Path(settings.data_dir) / "charts"  # where `exportbot console` writes them
        session = ConsoleSession(bot.service, bot.executor, "alice", locale="fr", image_dir=charts)
        reply = await session.handle_line("stats db --days 2")
    assert reply is not None
    chart = tmp_path / "var" / "charts" / "stats-db-2d.png"
    assert reply.splitlines()[-1] == f"Graphique enregistré dans {chart.resolve()}"
    assert "Durée\u202f: ▁█  de 20 s à 40 s, 30 s en moyenne" in reply
    assert "Taille\u202f: pas d’archive (la cible lance une commande)" in reply
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (PNG_WIDTH, PNG_HEIGHT)
