"""The README, CONTRIBUTING.md and the docs/ site stay short, true to the code, and whole.

`make docs` (in `make check`) builds the site with `mkdocs build --strict`, which fails on a
broken link or anchor and on a page missing from the nav; these tests check what the build
cannot: the size of the README, that the configuration reference covers every setting, and
that the files, settings and environment variables the prose names exist.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest
import yaml
from pydantic import BaseModel

from bot.config import GrantConfig, Settings, TargetConfig
from bot.config_reference import TABLES, env_names, render

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
PROSE = [README, ROOT / "CONTRIBUTING.md", *PAGES]
HOOK = ROOT / "docs" / "hooks" / "settings_reference.py"

# Variables the prose may name that are not settings: the configuration file, the tests', and
# those `exportbot report` reads on the hosts it runs on (bot/report.py).
OTHER_VARIABLES = {
    "EXPORTBOT_CONFIG",
    "EXPORTBOT_TEST_PG_URL",
    "EXPORTBOT_PAYLOAD_CORPUS",
    "EXPORTBOT_SCREENSHOTS",  # where the web pages' browser test keeps its screenshots
    "EXPORTBOT_API_URL",
    "EXPORTBOT_API_KEY",
}
VARIABLE = re.compile(
    r"\b(?:EXPORTBOT|SLACK|DISCORD)_[A-Z0-9_]*[A-Z0-9]\b"
    r"|\bCONNECTIONS__SERVICE_CONNECTION__SETTINGS__[A-Z]+\b"
)
# A path of this repository in backticks: `core/grammar/registry.py`, `tests/scenarios/`.
REPO_PATH = re.compile(
    r"`((?:adapters|bench|bot|core|docs|examples|manifest|storage|tests)/[^`\s]*)`"
)
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def _models() -> list[tuple[str, type[BaseModel]]]:
    return [("", Settings), *TABLES]


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("settings_reference_hook", HOOK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_is_at_most_10_kb() -> None:
    size = len(README.read_bytes())
    assert size <= 10_000, f"README.md is {size} bytes; move detail into docs/"


def test_the_readme_links_into_the_docs_and_every_link_resolves() -> None:
    for document in (README, ROOT / "CONTRIBUTING.md"):
        targets = [t for t in LINK.findall(document.read_text()) if "://" not in t]
        if document == README:
            assert any(t.startswith("docs/") for t in targets)
        missing = [t for t in targets if not (document.parent / t).exists()]
        assert not missing, f"{document.name} links to files that do not exist: {missing}"


def test_the_configuration_reference_lists_every_setting_with_its_environment_name() -> None:
    reference = render()
    for name, field in Settings.model_fields.items():
        assert f"#### `{name}` {{#{name}}}" in reference, name
        for env in env_names(name, field):
            assert f"`{env}`" in reference, (name, env)


def test_the_configuration_reference_lists_every_key_of_the_nested_tables() -> None:
    reference = render()
    assert {model for _, model in TABLES} == {TargetConfig, GrantConfig}
    for table, model in TABLES:
        section = reference.split(f"### `[[{table}]]`", 1)[1].split("\n### ", 1)[0]
        for name in model.model_fields:
            assert f"#### `{name}` {{#{table}.{name}}}" in section, (table, name)


@pytest.mark.parametrize(("table", "model"), _models(), ids=lambda v: getattr(v, "__name__", v))
def test_every_setting_has_a_docstring_for_the_reference(
    table: str, model: type[BaseModel]
) -> None:
    undocumented = [name for name, f in model.model_fields.items() if not f.description]
    assert not undocumented, f"write a docstring under each of {undocumented} in bot/config.py"


def test_the_site_renders_the_reference_into_the_configuration_page() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert "docs/hooks/settings_reference.py" in config["hooks"]
    hook = _hook()
    page = (ROOT / "docs" / "configuration.md").read_text()
    built = hook.on_page_markdown(
        page, page=SimpleNamespace(file=SimpleNamespace(src_uri=hook.PAGE))
    )
    assert hook.MARKER not in built
    for name, field in Settings.model_fields.items():
        for env in env_names(name, field):
            assert env in built, env


def test_every_page_is_in_the_site_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, list):
            return [p for item in nav for p in pages(item)]
        if isinstance(nav, dict):
            return [p for value in nav.values() for p in pages(value)]
        return []

    assert sorted(pages(config["nav"])) == sorted(p.name for p in PAGES)


def test_the_environment_variables_named_in_the_docs_exist() -> None:
    known = set(OTHER_VARIABLES)
    for name, field in Settings.model_fields.items():
        known.update(env_names(name, field))
    for document in PROSE:
        unknown = set(VARIABLE.findall(document.read_text())) - known
        assert not unknown, f"{document.relative_to(ROOT)} names unknown variables: {unknown}"


def test_the_files_named_in_the_docs_exist() -> None:
    for document in PROSE:
        named = {p for p in REPO_PATH.findall(document.read_text()) if not set(p) & set("<*{…")}
        missing = sorted(p for p in named if not (ROOT / p).exists())
        assert not missing, f"{document.relative_to(ROOT)} names files that moved: {missing}"
