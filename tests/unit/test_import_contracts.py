"""The layer rules of ARCHITECTURE.md, kept by import-linter (pyproject's [tool.importlinter]).

`lint-imports` runs in `make lint`; these tests run it too, and prove that each contract
catches the import it exists to forbid: a copy of the packages gets one leaking module, and the
contract that names it must break.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "adapters", "storage", "bot")
# The console script installed beside this interpreter (the venv's bin).
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(where: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    """Runs `lint-imports` on the packages under `where`, found there before any installed copy."""
    selected = [arg for contract in contracts for arg in ("--contract", contract)]
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *selected],
        cwd=where,
        env={**os.environ, "PYTHONPATH": str(where)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_checkout_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the four packages and the pyproject that holds the contracts."""
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("contract", "module", "leak", "reported"),
    [
        ("core-alone", "core/leak.py", "import sqlalchemy", "core.leak -> sqlalchemy"),
        ("core-alone", "core/domain/leak.py", "import aiohttp", "core.domain.leak -> aiohttp"),
        ("core-alone", "core/views/leak.py", "from slack_sdk import WebClient", "slack_sdk"),
        (
            "core-alone",
            "core/handlers/leak.py",
            "from storage import tables",
            "core.handlers.leak -> storage.tables",
        ),
        (
            "adapters-apart",
            "adapters/slack/leak.py",
            "from adapters.teams import cards",
            "adapters.slack.leak -> adapters.teams.cards",
        ),
        (
            "storage-below",
            "storage/leak.py",
            "from bot import config",
            "storage.leak -> bot.config",
        ),
    ],
)
def test_a_leaking_import_breaks_its_contract(
    tree: Path, contract: str, module: str, leak: str, reported: str
) -> None:
    (tree / module).write_text(f'"""A module that breaks the layers."""\n\n{leak}\n')

    result = lint_imports(tree, contract)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 broken" in result.stdout
    assert reported in result.stdout  # the copy was read, not the installed packages
