"""The web pages of F3 in Debian's Chromium, driven by Playwright, against `exportbot serve`.

axe-core (tests/clients' npm package) finds zero WCAG 2.0/2.1/2.2 A and AA violations on every
page (job, history, review) in both themes, in English and in French; a keyboard-only walk goes
through the skip link, `g h`, `g j`, `?` and the help dialog (focus kept inside, Escape closes,
focus goes back); the theme survives a reload; the Spoken summary fills the live region; and
the pages' own scripts run under their strict CSP. Screenshots are kept under
EXPORTBOT_SCREENSHOTS, else var/test-artifacts/web-pages/ (the test prints where).

The browser is Debian's `/usr/bin/chromium`, never one Playwright downloads.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from core.safety.links import PageLinks
from tests.e2e.conftest import console
from tests.e2e.playground import CHROMIUM, CHROMIUM_ARGS, REPOSITORY, exportbot_serve_plain

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

AXE = REPOSITORY / "tests" / "clients" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SECRET = "web-pages-browser-test-link-secret"
PAGES = ("job", "history", "review")


def _missing() -> list[str]:
    missing = []
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if not AXE.is_file():
        missing.append(f"{AXE.relative_to(REPOSITORY)} (npm ci in tests/clients)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright (pyproject's dev extras)")
    return missing


@pytest.fixture(scope="module", autouse=True)
def _browser_or_skip() -> None:
    missing = _missing()
    if not missing:
        return
    message = f"the web pages' browser test needs {', '.join(missing)}: run `make test`"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def screenshots() -> Path:
    where = Path(
        os.environ.get("EXPORTBOT_SCREENSHOTS")
        or REPOSITORY / "var" / "test-artifacts" / "web-pages"
    )
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    print(f"\nweb page screenshots: {where}")
    return where


@dataclass(frozen=True)
class Site:
    base: str
    links: PageLinks
    latest_job: int

    def url(self, kind: str, locale: str) -> str:
        now = datetime.now(UTC)
        if kind == "job":
            return self.links.job(1, locale, now)
        if kind == "history":
            return self.links.history("demo", locale, now)
        return self.links.review(1, locale, now)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """`exportbot serve` on the demo, after the console ran a job twice and submitted a draft
    (same database, same link key: the links the test signs open there)."""
    workdir = tmp_path_factory.mktemp("web-pages")
    script = (
        "run demo\nrun demo\n"
        'schedule draft demo --cron "0 3 * * *" --tz Europe/Paris --keep 5 --exclude "*.log"\n'
        "schedule submit #1\n"
    )
    done = console(workdir, "alice", script, EXPORTBOT_LINK_SECRET=SECRET)
    assert done.returncode == 0 and "Job #2 · demo ended" in done.stdout, done.stdout
    with exportbot_serve_plain(workdir, EXPORTBOT_LINK_SECRET=SECRET) as running:
        base = f"http://127.0.0.1:{running.port}"
        yield Site(base, PageLinks(base, SECRET.encode(), timedelta(hours=1)), 2)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def _context(browser: Browser, *, bypass_csp: bool = False) -> BrowserContext:
    context = browser.new_context(bypass_csp=bypass_csp, viewport={"width": 1200, "height": 900})
    # Only the bot is reachable: a page that asked for anything elsewhere would fail here.
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:)"), lambda route: route.abort())
    return context


def _axe(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    assert len(result["passes"]) > 10  # the rules ran on something
    return [
        {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en", "fr"])
def test_every_page_has_no_axe_violations_in_either_theme(
    site: Site, browser: Browser, screenshots: Path, locale: str
) -> None:
    # bypass_csp for axe alone: the page's CSP rightly refuses an injected script.
    context = _context(browser, bypass_csp=True)
    try:
        page = context.new_page()
        for kind in PAGES:
            page.goto(site.url(kind, locale))
            assert page.locator("html").get_attribute("lang") == locale
            for theme in ("default", "contrast"):
                page.evaluate("t => localStorage.setItem('exportbot.theme', t)", theme)
                page.reload()
                expected = "contrast" if theme == "contrast" else None
                assert page.locator("html").get_attribute("data-theme") == expected
                assert _axe(page) == [], (kind, theme, locale)
                page.screenshot(
                    path=str(screenshots / f"{kind}-{theme}-{locale}.png"), full_page=True
                )
            # The help dialog open, in the contrast theme: its text and focus are checked too.
            page.keyboard.press("?")
            assert page.locator("dialog#shortcuts").evaluate("d => d.open")
            assert _axe(page) == [], (kind, "dialog", locale)
            page.screenshot(path=str(screenshots / f"{kind}-dialog-{locale}.png"))
            page.keyboard.press("Escape")
        # The check can fail: a button without a name is a violation axe reports.
        page.evaluate("document.querySelector('main').append(document.createElement('button'))")
        assert [v["id"] for v in _axe(page)] == ["button-name"]
    finally:
        context.close()


def _active(page: Page) -> str:
    """The focused element, as `tag#id.class`."""
    described: str = page.evaluate(
        "() => { const e = document.activeElement;"
        " return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +"
        " (e.className ? '.' + e.className : ''); }"
    )
    return described


@pytest.mark.slow
def test_a_keyboard_only_walk_through_the_skip_link_the_shortcuts_and_the_dialog(
    site: Site, browser: Browser, screenshots: Path
) -> None:
    context = _context(browser)  # the page's own CSP applies: its scripts must run under it
    refused: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda m: refused.append(m.text) if m.type == "error" else None)
        page.goto(site.url("history", "en"))

        # The first Tab reaches the skip link; Enter moves to the content.
        page.keyboard.press("Tab")
        assert _active(page) == "a.skip"
        assert page.locator("a.skip").is_visible()  # shown while focused
        page.screenshot(path=str(screenshots / "walk-skip-link.png"))
        page.keyboard.press("Enter")
        assert _active(page) == "main#main"

        # Typing in the filter is typing, not shortcuts: `g h` and `?` stay in the field.
        page.locator("#filter").focus()
        page.keyboard.type("gh?")
        assert page.locator("#filter").input_value() == "gh?"
        assert "/targets/demo/history" in page.url
        assert not page.locator("dialog#shortcuts").evaluate("d => d.open")
        page.locator("#filter").fill("#2")
        assert page.locator("#jobs tbody tr:not([hidden])").count() == 1
        page.locator("#filter").fill("")

        # `?` from the page opens the dialog; Tab and Shift+Tab stay inside; Escape closes it
        # and the focus goes back where it was.
        page.locator("#spoken-button").focus()
        page.keyboard.press("?")
        dialog = page.locator("dialog#shortcuts")
        assert dialog.evaluate("d => d.open")
        inside = "() => document.querySelector('#shortcuts').contains(document.activeElement)"
        for key in ("Tab", "Tab", "Shift+Tab", "Tab", "Shift+Tab", "Shift+Tab"):
            page.keyboard.press(key)
            assert page.evaluate(inside), key
        page.screenshot(path=str(screenshots / "walk-dialog.png"))
        page.keyboard.press("Escape")
        assert not dialog.evaluate("d => d.open")
        assert _active(page) == "button#spoken-button"

        # The same from its button, reached by keyboard.
        page.locator("#shortcuts-open").focus()
        page.keyboard.press("Enter")
        assert dialog.evaluate("d => d.open") and page.evaluate(inside)
        page.keyboard.press("Escape")
        assert _active(page) == "button#shortcuts-open"

        # The Spoken summary fills the live region with F2's sentence.
        region = page.locator("#spoken")
        assert region.get_attribute("aria-live") == "polite" and region.inner_text() == ""
        page.locator("#spoken-button").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('#spoken').textContent !== ''")
        assert re.fullmatch(r"Job #2 of demo succeeded .*; nothing to do\.", region.inner_text()), (
            region.inner_text()
        )

        # `g j`: the latest job; from there `g h`: back to the history.
        page.locator("main").focus()
        page.keyboard.press("g")
        page.keyboard.press("j")
        page.wait_for_url(re.compile(rf"/jobs/{site.latest_job}\?"))
        assert page.locator("h1").inner_text().startswith(f"Job #{site.latest_job} · demo")
        page.keyboard.press("g")
        page.keyboard.press("h")
        page.wait_for_url(re.compile(r"/targets/demo/history\?"))

        # The high-contrast theme, chosen by keyboard, survives a reload.
        page.locator("#theme-toggle").focus()
        page.keyboard.press("Enter")
        assert page.locator("#theme-toggle").get_attribute("aria-pressed") == "true"
        page.reload()
        assert page.locator("html").get_attribute("data-theme") == "contrast"
        assert page.locator("#theme-toggle").get_attribute("aria-pressed") == "true"
        page.screenshot(path=str(screenshots / "walk-contrast-after-reload.png"))
        page.locator("#theme-toggle").click()
        page.reload()
        assert page.locator("html").get_attribute("data-theme") is None

        # A French link: the French page, its shortcuts keep the language.
        page.goto(site.url("job", "fr"))
        assert page.locator("a.skip").inner_text() == "Aller au contenu"
        page.keyboard.press("g")
        page.keyboard.press("h")
        page.wait_for_url(re.compile(r"/targets/demo/history\?.*lang=fr"))
        assert page.locator("h1").inner_text().startswith("Historique de demo")
    finally:
        context.close()
    assert not [m for m in refused if "Content Security Policy" in m or "Refused" in m], refused
