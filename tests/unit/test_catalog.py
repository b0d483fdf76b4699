from __future__ import annotations

import ast
import re
import string
from collections.abc import Mapping
from pathlib import Path

import pytest
from babel import Locale

from core.i18n import CATALOGS, Entry, Translator, resolve_locale

ROOT = Path(__file__).resolve().parents[2]
NNBSP = "\u202f"


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _forms(entry: Entry) -> list[str]:
    return [entry] if isinstance(entry, str) else list(entry.values())


def _entry_placeholders(entry: Entry) -> set[str]:
    found = [_placeholders(form) for form in _forms(entry)]
    # each plural form names the same things (a form may leave `count` unsaid: "un seul")
    assert all(f - {"count"} == found[0] - {"count"} for f in found), entry
    return set().union(*found)


def test_every_locale_has_the_same_keys_and_placeholders() -> None:
    english = CATALOGS["en"]
    for locale, catalog in CATALOGS.items():
        assert set(catalog) == set(english), locale
        for key, entry in catalog.items():
            assert _entry_placeholders(entry) == _entry_placeholders(english[key]), (locale, key)
            # a key that counts in one language counts in all
            assert isinstance(entry, str) == isinstance(english[key], str), (locale, key)


def test_plural_entries_hold_the_forms_of_their_locale() -> None:
    """`other` always; `one` where the language has it; nothing Babel's rules never pick."""
    plurals = 0
    for locale, catalog in CATALOGS.items():
        tags = set(Locale.parse(locale).plural_form.tags) | {"other"}
        for key, entry in catalog.items():
            if isinstance(entry, str):
                continue
            plurals += 1
            assert isinstance(entry, Mapping)
            assert {"one", "other"} <= set(entry) <= tags, (locale, key, sorted(entry))
            assert all("{count}" in form for form in entry.values()), (locale, key)
    assert plurals >= 2 * 24  # the counted keys of both languages


# A number put before a noun that takes a plural: such a text must be a plural entry (or
# take the noun from one, as `{days}` from `count.days`).
_NUMBERS = "count|days|files|jobs|drafts|total|missing|unrecorded|rows|done|number|n"
_NOUNS = (
    "days?|jours?|files?|fichiers?|jobs?|archives?|targets?|cibles?|alerts?|alertes?|drafts?"
    "|brouillons?|events?|événements?|keys?|clés?|subscriptions?|abonnements?|more|autres?"
    "|role grants?|attributions?|recent jobs?|successful jobs?|exécutions?"
)
_COUNTED = re.compile(rf"\{{({_NUMBERS})\}} ({_NOUNS})\b")


def test_every_message_that_counts_things_has_plural_forms() -> None:
    singular_only = {
        (locale, key, form)
        for locale, catalog in CATALOGS.items()
        for key, form in catalog.items()
        if isinstance(form, str) and _COUNTED.search(form)
    }
    assert sorted(singular_only) == []


@pytest.mark.parametrize(
    ("key", "count", "english", "french"),
    [
        ("line.files", 1, "1 file", "1 fichier"),
        ("line.files", 0, "0 files", "0 fichier"),
        ("line.files", 2, "2 files", "2 fichiers"),
        ("line.files", 40_000, "40,000 files", f"40{NNBSP}000 fichiers"),
        ("count.days", 1, "1 day", "1 jour"),
        ("history.summary", 1, "1 recent job for site-a.", "1 job récent pour site-a."),
        (
            "prune.summary",
            1,
            "1 archive (1 MB) would be deleted: a",
            f"1 archive (1 MB) serait supprimée{NNBSP}: a",
        ),
    ],
)
def test_counted_messages_take_the_form_of_their_number(
    key: str, count: int, english: str, french: str
) -> None:
    params = {"scope": "site-a", "size": "1 MB", "names": "a"}
    assert Translator("en").t(key, count=count, **params) == english
    assert Translator("fr").t(key, count=count, **params) == french


def _render(locale: str, key: str) -> list[str]:
    """The key's text in every form, its placeholders filled with plain values."""
    t, entry = Translator(locale), CATALOGS[locale][key]
    values: dict[str, object] = {n: "X" for form in _forms(entry) for n in _placeholders(form)}
    values["prefix"] = "/export "
    numbers = (2,) if isinstance(entry, str) else (0, 1, 2, 1_000_000)
    return [t.t(key, **{**values, "count": number}) for number in numbers]


# Independent of typography.py: a plain or no-break space, a high mark, then a space or the end.
_BAD_SPACE = re.compile(r"[ \u00a0][:;?!](?=\s|$)")


def test_french_texts_put_a_narrow_no_break_space_before_high_punctuation() -> None:
    checked = narrow = 0
    for key in CATALOGS["fr"]:
        for text in _render("fr", key):
            checked += 1
            narrow += NNBSP in text
            assert _BAD_SPACE.findall(text) == [], (key, text)
            # and never a narrow space where there is no mark
            assert re.findall(rf"{NNBSP}[^:;?!0-9]", text) == [], (key, text)
    assert checked > 500
    assert narrow > 100  # the rule ran: French puts marks after spaces often


def test_english_texts_keep_their_spaces() -> None:
    for key in CATALOGS["en"]:
        for text in _render("en", key):
            assert NNBSP not in text, key


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
