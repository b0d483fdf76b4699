"""The Slack app manifest is generated from the registry and `surface.py`, and checked in (A6)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.slack import surface
from bot.manifests.slack import (
    MAX_COMMAND_DESCRIPTION,
    MAX_DESCRIPTION,
    MAX_LONG_DESCRIPTION,
    MAX_SHORTCUT_DESCRIPTION,
    MAX_SHORTCUT_NAME,
    MAX_USAGE_HINT,
    MIN_LONG_DESCRIPTION,
    slack_manifest,
    slack_manifest_yaml,
)
from core.commands.grammar.registry import REGISTRY, all_verbs
from core.i18n import Translator
from tests.e2e.conftest import EXPORTBOT, clean_env

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "manifest" / "slack" / "manifest.yaml"
EXAMPLE_URL = "https://exportbot.example.com"
REGENERATE = (
    f"EXPORTBOT_PUBLIC_URL={EXAMPLE_URL} .venv/bin/exportbot manifest slack "
    "> manifest/slack/manifest.yaml"
)


@pytest.fixture(params=[False, True], ids=["http", "socket-mode"])
def manifest(request: pytest.FixtureRequest) -> dict[str, Any]:
    return slack_manifest(EXAMPLE_URL, socket_mode=request.param)


def test_the_checked_in_manifest_is_the_generated_one() -> None:
    generated = slack_manifest_yaml(EXAMPLE_URL, socket_mode=False)
    assert CHECKED_IN.is_file(), f"manifest/slack/manifest.yaml is missing; run: {REGENERATE}"
    assert CHECKED_IN.read_text(encoding="utf-8") == generated, (
        f"manifest/slack/manifest.yaml has drifted from the registry; regenerate it: {REGENERATE}"
    )


def test_the_yaml_says_it_is_generated_and_reads_back_as_the_manifest() -> None:
    text = slack_manifest_yaml(EXAMPLE_URL, socket_mode=False)
    first = text.splitlines()[0]
    assert first.startswith("#") and "exportbot manifest slack" in first
    assert "do not edit" in first
    assert yaml.safe_load(text) == slack_manifest(EXAMPLE_URL, socket_mode=False)


def test_over_http_every_request_url_is_the_events_route() -> None:
    manifest = slack_manifest(EXAMPLE_URL + "/", socket_mode=False)  # a trailing slash is fine
    url = f"{EXAMPLE_URL}/slack/events"
    settings = manifest["settings"]
    assert manifest["features"]["slash_commands"][0]["url"] == url
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert settings["socket_mode_enabled"] is False


def test_in_socket_mode_there_is_no_url() -> None:
    manifest = slack_manifest(EXAMPLE_URL, socket_mode=True)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert "url" not in manifest["features"]["slash_commands"][0]
    assert "slack/events" not in slack_manifest_yaml(EXAMPLE_URL, socket_mode=True)
    assert EXAMPLE_URL not in slack_manifest_yaml(EXAMPLE_URL, socket_mode=True)


def test_the_manifest_names_what_the_adapter_uses(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert manifest["_metadata"] == {"major_version": 1, "minor_version": 1}
    assert [c["command"] for c in features["slash_commands"]] == [surface.COMMAND]
    assert features["slash_commands"][0]["should_escape"] is False
    assert [(s["type"], s["callback_id"], s["name"]) for s in features["shortcuts"]] == [
        ("message", surface.SHORTCUT_ANNOTATE, "Annotate export job"),
        ("global", surface.SHORTCUT_NEW_DRAFT, "New schedule draft"),
    ]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": False,
        "messages_tab_read_only_enabled": False,
    }
    assert features["bot_user"] == {"display_name": "exportbot", "always_online": True}
    assert manifest["oauth_config"]["scopes"]["bot"] == list(surface.BOT_SCOPES)
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == list(surface.BOT_EVENTS)
    assert manifest["settings"]["org_deploy_enabled"] is False
    assert manifest["settings"]["token_rotation_enabled"] is False


def test_slack_limits_hold(manifest: dict[str, Any]) -> None:
    display = manifest["display_information"]
    assert 1 <= len(display["name"]) <= 35
    assert 1 <= len(display["description"]) <= MAX_DESCRIPTION
    assert MIN_LONG_DESCRIPTION <= len(display["long_description"]) <= MAX_LONG_DESCRIPTION
    assert display["background_color"].startswith("#") and len(display["background_color"]) == 7
    assert 1 <= len(manifest["features"]["bot_user"]["display_name"]) <= 80
    for command in manifest["features"]["slash_commands"]:
        assert command["command"].startswith("/") and len(command["command"]) <= 32
        assert 1 <= len(command["description"]) <= MAX_COMMAND_DESCRIPTION
        assert 1 <= len(command["usage_hint"]) <= MAX_USAGE_HINT
    shortcuts = manifest["features"]["shortcuts"]
    assert 1 <= len(shortcuts) <= 10
    for shortcut in shortcuts:
        assert 1 <= len(shortcut["name"]) <= MAX_SHORTCUT_NAME
        assert 1 <= len(shortcut["description"]) <= MAX_SHORTCUT_DESCRIPTION
        assert 1 <= len(shortcut["callback_id"]) <= 255
    assert all(len(scope) <= 50 for scope in manifest["oauth_config"]["scopes"]["bot"])


@pytest.mark.parametrize("locale", ["en", "fr"])
def test_shortcut_names_fit_in_every_language(locale: str) -> None:
    t = Translator(locale)
    for key in ("slack.manifest.shortcut.annotate", "slack.manifest.shortcut.new_draft"):
        assert len(t.t(key)) <= MAX_SHORTCUT_NAME, (locale, key)
        assert len(t.t(f"{key}.description")) <= MAX_SHORTCUT_DESCRIPTION, (locale, key)
    assert len(t.t("slack.manifest.description")) <= MAX_DESCRIPTION, locale


def test_every_verb_of_the_registry_is_in_the_usage_hint_and_the_description(
    manifest: dict[str, Any],
) -> None:
    hint = manifest["features"]["slash_commands"][0]["usage_hint"]
    parts = hint.split(" | ")
    assert [part.split()[0] for part in parts] == [verb.name for verb in REGISTRY]
    long_description = manifest["display_information"]["long_description"]
    english = Translator("en")
    for verb in all_verbs():
        assert f"{surface.COMMAND} {verb.usage} — {english.t(verb.summary_key)}" in long_description


def test_exportbot_manifest_slack_prints_the_yaml_without_touching_a_database(
    tmp_path: Path,
) -> None:
    env = clean_env(EXPORTBOT_PUBLIC_URL="https://bot.example.org")
    env.pop("SLACK_APP_TOKEN", None)
    done = subprocess.run(
        [EXPORTBOT, "manifest", "slack"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == slack_manifest_yaml("https://bot.example.org", socket_mode=False)
    manifest = yaml.safe_load(done.stdout)
    assert manifest["settings"]["interactivity"]["request_url"] == (
        "https://bot.example.org/slack/events"
    )
    assert list(tmp_path.iterdir()) == []  # no var/, no database file


def test_exportbot_manifest_slack_with_an_app_token_is_for_socket_mode(tmp_path: Path) -> None:
    done = subprocess.run(
        [EXPORTBOT, "manifest", "slack"],
        cwd=tmp_path,
        env=clean_env(SLACK_APP_TOKEN="xapp-1-test"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["settings"]["socket_mode_enabled"] is True
    assert list(tmp_path.iterdir()) == []
