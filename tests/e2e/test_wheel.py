"""The package as a user installs it (#14): the wheel built from the tracked files, installed
with its dependencies in a fresh virtual environment outside the checkout, migrates a database
and exports the built-in demo, whose tree and migrations it carries as package data.

One build and one install (about a minute, most of it pip) serve every test of this file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import NamedTuple

import pytest

from bot.config import DEMO_EXCLUDES, DEMO_SITE
from storage.migrate import head_revision
from tests.e2e.conftest import clean_env, query

pytestmark = pytest.mark.slow

REPOSITORY = Path(__file__).resolve().parents[2]
# What pip prints when it cannot reach the package index (and its cache cannot stand in).
OFFLINE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|Network is unreachable|ConnectTimeoutError|ProxyError"
)


class Installed(NamedTuple):
    venv: Path
    home: Path  # an empty folder outside the checkout, the commands' working directory

    def run(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """A command of the fresh environment, with nothing of this suite's on its paths."""
        env = clean_env(PATH=os.pathsep.join((str(self.venv / "bin"), os.defpath)))
        for name in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(name, None)
        return subprocess.run(
            [str(self.venv / "bin" / args[0]), *args[1:]],
            input=stdin,
            cwd=self.home,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _tracked_copy(destination: Path) -> Path:
    """The tracked files of the working tree (what a fresh clone builds from). Building in the
    checkout itself would reuse its `build/` folder, where files since removed still lie."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPOSITORY, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPOSITORY / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def _pip(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, env=clean_env()
    )


def _offline(result: subprocess.CompletedProcess[str], what: str) -> None:
    """Skip, outside CI only, when pip failed for want of the package index."""
    if result.returncode == 0 or not OFFLINE.search(result.stdout + result.stderr):
        return
    message = f"{what}: the package index is unreachable and pip's cache does not hold it all"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; in CI the wheel test must run")
    pytest.skip(message)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    assert not root.resolve().is_relative_to(REPOSITORY), "the install must be outside"
    source = _tracked_copy(root / "source")
    built = _pip(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-w",
        str(root / "dist"),
        str(source),
        timeout=300,
    )
    _offline(built, "building the wheel")
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("exportbot-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # --no-compile: the bytecode pip would write is compiled on import anyway; it saves seconds
    added = _pip(
        str(venv / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--no-compile",
        str(wheel),
        timeout=600,
    )
    _offline(added, "installing the wheel's dependencies")
    assert added.returncode == 0, added.stdout + added.stderr
    home = root / "home"
    home.mkdir()
    return Installed(venv, home)


def _files(tree: Path) -> set[str]:
    return {path.relative_to(tree).as_posix() for path in tree.rglob("*") if path.is_file()}


def test_the_installed_package_carries_the_whole_demo_tree(installed: Installed) -> None:
    shown = installed.run(
        "python",
        "-c",
        "import json, bot.config, storage.migrate;"
        "print(json.dumps([str(bot.config.DEMO_SITE), str(storage.migrate.MIGRATIONS)]))",
    )
    assert shown.returncode == 0, shown.stderr
    demo, migrations = (Path(p) for p in json.loads(shown.stdout))
    for folder in (demo, migrations):
        assert folder.is_relative_to(installed.venv), folder  # not this checkout's
    # what the demo shows being excluded must be there to be excluded
    assert {"node_modules/left-pad/index.js", ".cache/CACHEDIR.TAG"} <= _files(demo)
    assert _files(demo) == _files(DEMO_SITE)
    assert (migrations / "script.py.mako").is_file()


def test_the_installed_package_renders_the_web_pages_from_its_own_templates(
    installed: Installed,
) -> None:
    shown = installed.run(
        "python",
        "-c",
        "import json, bot, bot.pages as p; from core.i18n import Translator;"
        "print(json.dumps([bot.__file__, p.refusal(Translator('fr'), 'page.link_expired'),"
        " [p.static_file(n)[1] for n in sorted(p.STATIC_TYPES)]]))",
    )
    assert shown.returncode == 0, shown.stderr
    where, html, kinds = json.loads(shown.stdout)
    assert Path(where).is_relative_to(installed.venv)  # not this checkout's
    assert '<html lang="fr">' in html and "a expiré" in html
    assert '<link rel="stylesheet" href="/static/pages.css">' in html
    assert kinds == ["text/css", "text/javascript", "text/javascript"]


def test_db_upgrade_from_the_wheel_brings_a_new_database_to_the_head(
    installed: Installed,
) -> None:
    done = installed.run("exportbot", "db", "upgrade")
    assert done.returncode == 0, done.stderr
    database = installed.home / "var" / "exportbot.db"
    assert query(database, "SELECT version_num FROM alembic_version") == [(head_revision(),)]


def test_the_console_from_the_wheel_exports_the_demo_without_its_excluded_folders(
    installed: Installed,
) -> None:
    done = installed.run("exportbot", "console", "--user", "alice", stdin="run demo\nstatus\n")
    assert done.returncode == 0, done.stderr
    assert "Job #1 · demo ended — succeeded" in done.stdout
    assert "#1 demo — succeeded" in done.stdout  # the status line
    assert "Traceback" not in done.stdout + done.stderr
    (archive,) = (installed.home / "var" / "archives").glob("demo-*-job1.tar.gz")
    with tarfile.open(archive) as opened:
        archived = {member.name for member in opened if member.isfile()}
    kept = {name for name in _files(DEMO_SITE) if not name.startswith(DEMO_EXCLUDES)}
    assert archived == kept
    assert "media/intro-video.mp4" in archived
