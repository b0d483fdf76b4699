"""The bot's payloads, checked by software no one here wrote (issue 13).

The scenario suite (and the adapter tests that draw modals, the home tab, alerts and webhook
posts) runs once in a subprocess with EXPORTBOT_PAYLOAD_CORPUS set; everything the bot sent to
or answered a platform is then checked with the platforms' own packages, installed by
`make test` into tests/clients/node_modules: Slack's and Discord's TypeScript types through
`tsc --strict`, Adaptive Cards against Microsoft's 1.5 schema and through `adaptivecards`,
the Slack manifest and the Discord commands through their types. (The Teams manifest is
validated against its schema in tests/adapters/test_teams_manifest.py.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.clients import cards, corpus
from tests.clients.typecheck import NODE_MODULES, TSC, typecheck

ROOT = Path(__file__).resolve().parents[2]
EXPORTBOT = str(Path(sys.executable).parent / "exportbot")

# What runs to make the corpus: every scenario, and the adapter tests whose payloads no
# scenario produces (modals and the home tab, alerts, webhook posts, Teams approvals).
PRODUCERS = (
    "tests/scenarios",
    "tests/adapters/test_slack_modals_and_home.py",
    "tests/adapters/test_webhook_senders.py",
    "tests/adapters/test_discord_interactions.py",
    "tests/adapters/test_teams_approvals.py",
    "tests/adapters/test_slack_alerts.py::test_a_failed_job_alerts_its_channel_with_context_and_tells_its_requester",
    "tests/adapters/test_slack_alerts.py::test_a_dead_letter_tells_the_admins_once",
    # stats (C6): Slack's image blocks, Teams' Image, Discord's edit with an attachment
    "tests/adapters/test_slack_stats.py::test_stats_answers_with_the_chart_as_an_image_with_its_alt_text",
    "tests/adapters/test_slack_stats.py::test_a_crossed_bound_alerts_once_and_again_only_after_coming_back",
    "tests/adapters/test_teams_stats.py",
    "tests/adapters/test_discord_stats.py",
)

# Each must be in the corpus at least once, or the checks below would check nothing.
EXPECTED = {
    "slack": (
        "chat.postMessage",
        "chat.update",
        "views.open",
        "views.publish",
        "ack",
        "response-url",
        "view-response",
        "incoming-webhook",
        "app-manifest",
    ),
    "discord": (
        "create-message",
        "edit-message",
        "start-thread",
        "interaction-response",
        "webhook-message",
        "command-manifest",
    ),
    "teams": ("activity", "activity-update", "invoke-response", "workflows-webhook"),
}


@pytest.fixture(scope="module", autouse=True)
def clients_installed() -> None:
    if TSC.exists() and (NODE_MODULES / "adaptivecards").exists() and shutil.which("node"):
        return
    why = "the npm packages of tests/clients are not installed: run `make test` (npm ci)"
    if os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="module")
def payloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus: the producers run once, then the manifests the command line prints."""
    folder = tmp_path_factory.mktemp("corpus")
    env = {**os.environ, corpus.ENV: str(folder), "PYTHONPATH": str(ROOT)}
    basetemp = f"--basetemp={tmp_path_factory.mktemp('producers')}"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *PRODUCERS, "-q", "-p", "no:cacheprovider", basetemp],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    source = "exportbot manifest"
    discord = json.loads(_manifest("discord"))
    corpus.write(folder, "discord", "command-manifest", discord, f"{source} discord")
    for mode, extra in (("http", {}), ("socket mode", {"SLACK_APP_TOKEN": "xapp-1-A0-1-x"})):
        slack = yaml.safe_load(_manifest("slack", **extra))
        corpus.write(folder, "slack", "app-manifest", slack, f"{source} slack ({mode})")
    return folder


def _manifest(platform: str, **extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXPORTBOT_", "SLACK_"))}
    env |= {"EXPORTBOT_PUBLIC_URL": "https://exportbot.example.com", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [EXPORTBOT, "manifest", platform],
        cwd=ROOT,
        env=env | extra,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_the_corpus_holds_every_kind_of_payload(payloads: Path) -> None:
    counts = Counter(
        f"{path.parent.parent.name}/{path.parent.name}" for path in payloads.glob("*/*/*.json")
    )
    missing = [
        f"{platform}/{kind}"
        for platform, kinds in EXPECTED.items()
        for kind in kinds
        if counts[f"{platform}/{kind}"] == 0
    ]
    assert not missing, f"no payload of these kinds: {missing}; found {dict(counts)}"
    assert sum(counts.values()) > 200, counts


def test_slack_and_discord_payloads_satisfy_the_platforms_own_types(
    payloads: Path, tmp_path: Path
) -> None:
    problems = typecheck(payloads, tmp_path)
    assert not problems, "\n".join(problems[:40])


def test_every_adaptive_card_is_valid_against_the_official_1_5_schema(payloads: Path) -> None:
    found = cards.cards_in(payloads)
    assert len(found) > 50
    problems = cards.schema_problems(found)
    assert not problems, "\n".join(problems[:40])


def test_every_adaptive_card_parses_in_adaptivecards_without_an_event(payloads: Path) -> None:
    found = cards.cards_in(payloads)
    parsed, problems = cards.parser_problems(found)
    assert not problems, "\n".join(problems[:40])
    assert parsed == len(found)


def test_the_checks_name_the_payload_a_wrong_field_or_value_is_in(tmp_path: Path) -> None:
    """The checkers themselves can fail: a block with a misspelt field, a button style
    Discord lacks, a fact with no value, an element type no Adaptive Card has."""
    made = tmp_path / "corpus"
    section = {"type": "section", "txt": {"type": "mrkdwn", "text": "x"}}
    corpus.write(made, "slack", "chat.postMessage", {"channel": "C1", "blocks": [section]}, "a")
    button = {"type": 2, "style": 9, "label": "Go", "custom_id": "go"}
    message = {"content": "x", "components": [{"type": 1, "components": [button]}]}
    corpus.write(made, "discord", "create-message", message, "b")
    card = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "FactSet", "facts": [{"title": "Size"}]}, {"type": "Blink"}],
    }
    attachment = {"contentType": cards.ADAPTIVE_CARD, "content": card}
    corpus.write(made, "teams", "activity", {"type": "message", "attachments": [attachment]}, "c")
    (tmp_path / "ts").mkdir()

    typed = "\n".join(typecheck(made, tmp_path / "ts"))
    assert "slack/chat.postMessage/" in typed and "(from a)" in typed and "'\"txt\"'" in typed
    assert "discord/create-message/" in typed and "'9' is not assignable" in typed
    found = cards.cards_in(made)
    [schema] = cards.schema_problems(found)
    assert "teams/activity/" in schema and "(from c)" in schema
    parsed, problems = cards.parser_problems(found)
    assert parsed == 1 and any('Unknown element type "Blink"' in p for p in problems), problems
