from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from core.i18n import CATALOGS, Translator, resolve_locale

ROOT = Path(__file__).resolve().parents[2]


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_locale_has_the_same_keys_and_placeholders() -> None:
    english = CATALOGS["en"]
    for locale, catalog in CATALOGS.items():
        assert set(catalog) == set(english), locale
        for key, template in catalog.items():
            assert _placeholders(template) == _placeholders(english[key]), (locale, key)


def test_every_key_used_in_the_code_exists() -> None:
    """Literal keys given to `t()` or to a core error must be in the catalog."""
    errors = {
        "ExportbotError",
        "InvalidCommand",
        "PermissionDenied",
        "NotFound",
        "StaleAction",
        "Conflict",
    }
    used: set[str] = set()
    for path in (ROOT / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first = node.args[0]
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "t" or name in errors:
                used.add(first.value)
    assert len(used) > 50  # the scan itself works
    assert sorted(used - set(CATALOGS["en"])) == []


def test_every_enum_value_shown_to_users_has_a_key() -> None:
    from core.commands.grammar import REGISTRY, all_verbs
    from core.domain.capabilities import Capability
    from core.domain.model import AnnotationKind, JobState, OriginKind

    keys = [f"state.{s.value}" for s in JobState] + [f"summary.{s.value}" for s in JobState]
    keys += [f"capability.{c.value}" for c in Capability]
    keys += [f"annotation.kind.{k.value}" for k in AnnotationKind]
    keys += [f"origin.{o.value}" for o in OriginKind]
    keys += [v.summary_key for v in [*REGISTRY, *all_verbs()]]
    assert [k for k in keys if k not in CATALOGS["en"]] == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("fr-FR", "fr"),
        ("fr_CA.UTF-8", "fr"),
        ("FR", "fr"),
        ("de-DE", "en"),
        ("", "en"),
        (None, "en"),
        ("C.UTF-8", "en"),
    ],
)
def test_locales_resolve_to_a_catalog(given: str | None, expected: str) -> None:
    assert resolve_locale(given) == expected


def test_sizes_and_durations_read_naturally_in_each_language() -> None:
    from datetime import timedelta

    assert Translator("en").size(1_534_000) == "1.5 MB"
    assert Translator("fr").size(1_534_000) == "1,5 Mo"
    assert Translator("en").size(999) == "999 B"
    assert Translator("en").duration(timedelta(seconds=2.34)) == "2.3 s"
    assert Translator("en").duration(timedelta(seconds=125)) == "2 min 5 s"


def test_a_missing_parameter_never_breaks_a_reply() -> None:
    assert Translator("en").t("job.title", job=3) == "Job #3 · {target}"
