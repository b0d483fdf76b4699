"""Microsoft's Agents Playground (npm `@microsoft/m365agentsplayground`) in headless Chromium.

What the end-to-end Teams test needs: the real `exportbot serve` with Teams on loopback and no
credentials, the Playground's CLI pointed at it, and a Playwright page on the Playground's web
UI, all on free 127.0.0.1 ports. The browser is Debian's `chromium`, never one Playwright
downloads; `make test` installs it and the npm package (Makefile: `browser`, `clients`).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.conftest import EXPORTBOT, clean_env

if TYPE_CHECKING:  # imported where used: a machine without playwright still collects the tests
    from playwright.sync_api import Page, Route

REPOSITORY = Path(__file__).resolve().parents[2]
CLIENTS = REPOSITORY / "tests" / "clients"
PLAYGROUND_CLI = CLIENTS / "node_modules" / ".bin" / "agentsplayground"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPOSITORY / "var" / "test-artifacts" / "playground"

# The Playground's default mock data (its built-in `.m365agentsplayground.yml`): the tenant
# and the signed-in user, Alex Wilber, whose AAD object id is what our principals use.
PLAYGROUND_TENANT = "00000000-0000-0000-0000-0000000000001"
PLAYGROUND_USER = "00000000-0000-0000-0000-0000000000020"
PLAYGROUND_BOT = "Test Bot"  # the bot's name there

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The Lexical editor the Playground types into (a contenteditable, not an <input>).
COMPOSE_BOX = "[data-lexical-editor=true]"


def missing_clients() -> list[str]:
    """What is not installed of the browser, the npm package and Python's Playwright."""
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if not PLAYGROUND_CLI.is_file():
        missing.append(f"{PLAYGROUND_CLI.relative_to(REPOSITORY)} (npm ci in tests/clients)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pyproject's dev extras)")
    if not shutil.which("node"):
        missing.append("node")
    return missing


def require_clients() -> None:
    """Skip without the clients, except in CI, where the test must run."""
    missing = missing_clients()
    if not missing:
        return
    message = f"missing {', '.join(missing)}: run `make test`, which installs them"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Running:
    """A started process, its log file, and where it listens."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def wait_for_log(running: Running, pattern: str, timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, running.text())
        if found:
            return found
        if running.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never saw {pattern!r}; log:\n{running.text()[-3000:]}")
        time.sleep(0.1)


@contextmanager
def started(
    args: list[str], cwd: Path, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            with suppress(ProcessLookupError):  # its own session: node's children go too
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def exportbot_serve(workdir: Path, config: Path) -> Iterator[Running]:
    """`exportbot serve` with Teams unauthenticated on loopback, the Playground's user admin."""
    port = free_port()
    env = clean_env(
        EXPORTBOT_ADMINS=f"teams:{PLAYGROUND_TENANT}:{PLAYGROUND_USER}",
        EXPORTBOT_LINK_SECRET="playground-test-link-secret",
    )
    args = [EXPORTBOT, "serve", "--config", str(config), "--port", str(port)]
    with started(args, workdir, env, workdir / "serve.log") as process:
        running = Running(process, workdir / "serve.log", port)
        wait_for_log(running, r"exportbot ready: .*teams \(no auth\)", timeout=60)
        yield running


@contextmanager
def exportbot_serve_plain(workdir: Path, **env: str) -> Iterator[Running]:
    """`exportbot serve` on the built-in demo in `workdir`, on a free loopback port."""
    port = free_port()
    args = [EXPORTBOT, "serve", "--port", str(port)]
    with started(args, workdir, clean_env(**env), workdir / "serve.log") as process:
        running = Running(process, workdir / "serve.log", port)
        wait_for_log(running, r"exportbot ready: ", timeout=60)
        yield running


@contextmanager
def agents_playground(workdir: Path, bot_port: int) -> Iterator[Running]:
    """The Playground's CLI in the Teams channel against the bot, no browser of its own."""
    port = free_port()
    env = {
        **os.environ,
        "TEAMSAPPTESTER_BROWSER": "none",  # its CLI opens none when this is "none"
        "M365_AGENTS_PLAYGROUND_LOGFILE": str(workdir / "playground-events.log"),
    }
    args = [
        str(PLAYGROUND_CLI),
        *("--app-endpoint", f"http://127.0.0.1:{bot_port}/api/messages"),
        *("--channel-id", "msteams"),
        *("--port", str(port)),
        "--disable-telemetry",
    ]
    with started(args, workdir, env, workdir / "playground.log") as process:
        running = Running(process, workdir / "playground.log", port)
        # It falls back to a random port when ours was taken meanwhile: read the one it says.
        running.port = int(wait_for_log(running, r"Listening on (\d+)", timeout=60)[1])
        yield running


@contextmanager
def chromium_page(profile: Path) -> Iterator[Page]:
    """A Playwright page in Debian's headless Chromium, a fresh profile, loopback only."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1280, "height": 1400},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            # The Playground asks for fonts and telemetry elsewhere: test traffic stays local.
            page.route(lambda url: not url.startswith("http://127.0.0.1:"), _abort)
            yield page
        finally:
            context.close()


def _abort(route: Route) -> None:
    route.abort()


def send(page: Page, text: str) -> None:
    """Type `text` into the Playground's compose box and send it."""
    box = page.locator(COMPOSE_BOX)
    box.click()
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def post_mentioning_the_bot(page: Page, text: str) -> None:
    """Start a post in the open channel that @mentions the bot (picked from the Playground's
    mention list, as in Teams), followed by `text`."""
    page.locator(COMPOSE_BOX).click()
    page.keyboard.type(f"@{PLAYGROUND_BOT}")
    page.get_by_role("menuitem", name=PLAYGROUND_BOT).click()
    page.keyboard.type(f" {text}")
    page.get_by_role("button", name="Post", exact=True).click()
