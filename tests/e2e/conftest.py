"""End-to-end helpers: run the real `exportbot` console script in a scratch directory."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

EXPORTBOT = str(Path(sys.executable).parent / "exportbot")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPORTBOT_")}
    env.update(LANG="C.UTF-8", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def console(
    cwd: Path, user: str, script: str, *args: str, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [EXPORTBOT, "console", "--user", user, *args],
        input=script,
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def query(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch directory: the demo's `var/` lands here, not in the repository."""
    return tmp_path


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    base = os.environ.get("EXPORTBOT_TEST_PG_URL", "")
    if not base:
        if os.environ.get("CI") == "true":
            pytest.fail("EXPORTBOT_TEST_PG_URL must be set in CI: the PostgreSQL tests must run")
        pytest.skip("EXPORTBOT_TEST_PG_URL is not set; PostgreSQL console test skipped")
    name = f"exportbot_e2e_{uuid.uuid4().hex[:10]}"
    server, _, _ = base.rpartition("/")
    admin = base.replace("postgresql+asyncpg://", "postgresql://")
    subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        yield f"{server}/{name}"
    finally:
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
