"""The Discord application commands, generated from the command registry (A3, A6).

`exportbot manifest discord` prints them: the JSON body of a bulk overwrite
(`PUT /applications/{id}/commands`). `manifest/discord/commands.json` is the checked-in copy,
and a test fails when it drifts from what this module generates. Field names, types and limits
follow Discord's application commands reference.

`/export` has one subcommand per verb, and a subcommand group per verb that has sub-verbs
(`/export role grant`). Option names are the registry's names, so the adapter can rebuild the
text the one grammar parses (`run demo`, `history demo --limit 20`) from an interaction.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from adapters.discord.commands import (
    ADMIN_COMMAND,
    ANNOTATE_COMMAND,
    COMMAND,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    command_of,
    option_name,
)
from core.commands.grammar.parser import MAX_TEXT_LENGTH
from core.commands.grammar.registry import REGISTRY, Kind, Option, Param, Verb
from core.i18n import Translator

FILE_NAME = "commands.json"
LOCALE = "en"  # the default texts; French goes in the localization maps
LOCALIZED = {"fr": "fr"}  # Discord locale -> catalog locale

# Discord's enums.
CHAT_INPUT, MESSAGE = 1, 3
STRING, INTEGER, BOOLEAN, USER = 3, 4, 5, 6
GUILD_INSTALL = 0
GUILD, BOT_DM = 0, 1

# Discord's limits.
MAX_NAME = 32
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25  # options, subcommands or groups at one level
MAX_CHOICES = 25
MAX_CHOICE_TEXT = 100
MAX_COMMAND_CHARACTERS = 4000


# Discord wants a description on every option: the catalog's `arg.<name>` (in English and
# French), else the one of its kind, `arg.kind.<kind>`.
def _fit(text: str) -> str:
    """At most 100 characters, an ellipsis marking a cut."""
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1].rstrip() + "…"


def _localized(key: str, english: str) -> dict[str, str]:
    """`description_localizations`: each catalog's text for `key` that differs from English."""
    texts = {}
    for discord_locale, catalog_locale in LOCALIZED.items():
        t = Translator(catalog_locale)
        if t.has(key) and _fit(t.t(key)) != english:
            texts[discord_locale] = _fit(t.t(key))
    return texts


def _described(key: str, entry: dict[str, Any]) -> dict[str, Any]:
    """`entry` with the catalog's description for `key`, and its translations."""
    entry["description"] = _fit(Translator(LOCALE).t(key))
    localizations = _localized(key, entry["description"])
    if localizations:
        entry["description_localizations"] = localizations
    return entry


def argument_key(argument: Param | Option) -> str:
    """The catalog key describing a registry argument."""
    named = f"arg.{argument.name}"
    return named if Translator(LOCALE).has(named) else f"arg.kind.{argument.kind.value}"


def _argument_text(t: Translator, key: str, default: Any) -> str:
    text = t.t(key)
    return _fit(t.t("arg.default", text=text, default=default) if default is not None else text)


def _describe_argument(entry: dict[str, Any], argument: Param | Option, default: Any) -> None:
    key = argument_key(argument)
    entry["description"] = _argument_text(Translator(LOCALE), key, default)
    localized = {
        discord_locale: text
        for discord_locale, catalog_locale in LOCALIZED.items()
        if (text := _argument_text(Translator(catalog_locale), key, default))
        != entry["description"]
    }
    if localized:
        entry["description_localizations"] = localized


def _argument(argument: Param | Option, default: Any = None) -> dict[str, Any]:
    name, kind = argument.name, argument.kind
    entry: dict[str, Any] = {"name": option_name(name)}
    if argument.required:  # false is Discord's default, and how it returns optional ones
        entry["required"] = True
    _describe_argument(entry, argument, None if kind is Kind.FLAG else default)
    if kind in (Kind.JOB, Kind.DRAFT):
        # Typed as a number, so Discord checks it; the adapter writes `#12` back.
        return {"type": INTEGER, **entry, "min_value": 1}
    if kind is Kind.INT:
        entry["type"] = INTEGER
        if isinstance(argument, Option) and argument.minimum is not None:
            entry["min_value"] = argument.minimum
        if isinstance(argument, Option) and argument.maximum is not None:
            entry["max_value"] = argument.maximum
        return entry
    if kind is Kind.FLAG:
        return {"type": BOOLEAN, **entry}
    if kind is Kind.WHO:
        return {"type": USER, **entry}
    entry["type"] = STRING
    if argument.choices and len(argument.choices) <= MAX_CHOICES:
        entry["choices"] = [{"name": choice, "value": choice} for choice in argument.choices]
    elif argument.choices or kind in (Kind.TARGET, Kind.SUBJECT):
        # Past 25 choices Discord lists none; autocomplete offers them (and target names).
        entry["autocomplete"] = True
    if kind is Kind.TEXT:
        entry["max_length"] = MAX_TEXT_LENGTH  # what the parser accepts
    return entry


def _arguments(verb: Verb) -> list[dict[str, Any]]:
    """Parameters then options, required ones first as Discord asks, otherwise in order."""
    options = [_argument(p) for p in verb.params]
    options += [_argument(o, o.default) for o in verb.options]
    return sorted(options, key=lambda option: not option.get("required", False))


def _subcommand(verb: Verb) -> dict[str, Any]:
    entry = _described(verb.summary_key, {"type": SUB_COMMAND, "name": verb.name})
    arguments = _arguments(verb)
    if arguments:
        entry["options"] = arguments
    return entry


def _group(verb: Verb) -> dict[str, Any]:
    entry = _described(verb.summary_key, {"type": SUB_COMMAND_GROUP, "name": verb.name})
    nested = [s.path for s in verb.subverbs if s.subverbs]
    if nested:
        # Discord nests one group deep: /export group subcommand.
        raise ValueError(f"Discord cannot nest {', '.join(nested)} below a subcommand group.")
    entry["options"] = [_subcommand(subverb) for subverb in verb.subverbs]
    return entry


def discord_commands() -> list[dict[str, Any]]:
    """The commands of a bulk overwrite: `/export`, `/export-admin` and the message menu
    "Annotate export job".

    The registry already groups sub-verbs under their first word (role, schedule, alerts),
    which is what a subcommand group is; each slash command then has one entry per top-level
    verb. The admin verbs go under `/export-admin` (adapters/discord/commands.py says which):
    Discord counts at most 4,000 characters of names, descriptions and choices per command, and
    one command cannot hold them all. Both rebuild the same grammar's text. Past 25 verbs in one
    command (Discord's limit) `validate` reports it.
    """
    # Installed to a guild; usable there and in the bot's DMs, where job alerts reach the
    # requester, so a note can be added from such an alert too.
    where = {"integration_types": [GUILD_INSTALL], "contexts": [GUILD, BOT_DM]}
    slash = []
    for name, description in (
        (COMMAND, "slack.manifest.command_description"),  # the same words as Slack's /export
        (ADMIN_COMMAND, "discord.manifest.admin_description"),
    ):
        command = _described(description, {"type": CHAT_INPUT, "name": name})
        command["options"] = [
            _group(v) if v.subverbs else _subcommand(v)
            for v in REGISTRY
            if command_of(v.path) == name
        ]
        slash.append(command | where)
    annotate: dict[str, Any] = {"type": MESSAGE, "name": ANNOTATE_COMMAND}
    names = {
        discord_locale: Translator(catalog_locale).t("slack.manifest.shortcut.annotate")
        for discord_locale, catalog_locale in LOCALIZED.items()
    }
    names = {locale: name for locale, name in names.items() if name != ANNOTATE_COMMAND}
    if names:
        annotate["name_localizations"] = names
    return [*slash, annotate | where]


# Validation against Discord's documented limits.


def _name_problems(entry: dict[str, Any], *, menu: bool) -> Iterator[str]:
    """Problems of the entry's name and of its localized names."""
    for name in [entry.get("name"), *entry.get("name_localizations", {}).values()]:
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
            yield f"a name must have 1–{MAX_NAME} characters: {name!r}"
            continue
        if menu:  # message and user commands may have spaces and capitals
            continue
        if name != name.lower():
            yield f"a name must be lower case: {name!r}"
        if any(ch not in "-_" and unicodedata.category(ch)[0] not in "LN" for ch in name):
            yield f"a name may only hold letters, digits, - and _: {name!r}"


def _description_problems(entry: dict[str, Any]) -> Iterator[str]:
    texts = [entry.get("description"), *entry.get("description_localizations", {}).values()]
    for text in texts:
        if not isinstance(text, str) or not 1 <= len(text) <= MAX_DESCRIPTION:
            yield f"a description must have 1–{MAX_DESCRIPTION} characters: {text!r}"


def _longest(entry: dict[str, Any], field: str) -> int:
    """Discord counts the longest of a field and its localizations toward the 4000."""
    texts = [str(entry.get(field) or ""), *entry.get(f"{field}_localizations", {}).values()]
    return max(len(text) for text in texts)


def command_characters(entry: dict[str, Any]) -> int:
    """Characters Discord counts in a command: names, descriptions, choices, all levels."""
    total = _longest(entry, "name") + _longest(entry, "description")
    for choice in entry.get("choices", []):
        total += _longest(choice, "name") + len(str(choice.get("value", "")))
    return total + sum(command_characters(option) for option in entry.get("options", []))


_COMMAND_TYPES = (SUB_COMMAND, SUB_COMMAND_GROUP)


def _option_problems(
    options: Sequence[dict[str, Any]], where: str, parent: int | None = None
) -> Iterator[str]:
    """Problems of one level of options, then of the levels below it.

    `parent` is the option type of the level's owner, None for the command itself.
    """
    if len(options) > MAX_OPTIONS:
        yield f"{where}: {len(options)} options; Discord allows {MAX_OPTIONS} at one level"
    names = [option.get("name") for option in options]
    for name in sorted({n for n in names if names.count(n) > 1}, key=str):
        yield f"{where}: two options are named {name!r}"
    seen_optional = False
    for option in options:
        here = f"{where} › {option.get('name')}"
        kind = option.get("type")
        yield from (f"{here}: {p}" for p in _name_problems(option, menu=False))
        yield from (f"{here}: {p}" for p in _description_problems(option))
        if parent == SUB_COMMAND_GROUP and kind != SUB_COMMAND:
            yield f"{here}: a subcommand group holds only subcommands"
        if parent == SUB_COMMAND and kind in _COMMAND_TYPES:
            yield f"{here}: a subcommand cannot hold subcommands or groups"
        if kind not in _COMMAND_TYPES:
            if option.get("required") and seen_optional:
                yield f"{here}: a required option comes after an optional one"
            seen_optional = seen_optional or not option.get("required")
        choices = option.get("choices", [])
        if len(choices) > MAX_CHOICES:
            yield f"{here}: {len(choices)} choices; Discord allows {MAX_CHOICES}"
        if choices and option.get("autocomplete"):
            yield f"{here}: choices and autocomplete exclude each other"
        for choice in choices:
            if not 1 <= len(str(choice.get("name", ""))) <= MAX_CHOICE_TEXT:
                yield f"{here}: choice name {choice.get('name')!r} is not 1–100 characters"
            if len(str(choice.get("value", ""))) > MAX_CHOICE_TEXT:
                yield f"{here}: choice value {choice.get('value')!r} is over 100 characters"
        yield from _option_problems(option.get("options", []), here, kind)


def validate(commands: Sequence[dict[str, Any]]) -> list[str]:
    """Every way `commands` breaks Discord's documented limits, as readable sentences."""
    problems: list[str] = []
    seen: set[tuple[Any, Any]] = set()
    for command in commands:
        kind, name = command.get("type", CHAT_INPUT), command.get("name")
        where = f"/{name}" if kind == CHAT_INPUT else repr(name)
        if (kind, name) in seen:
            problems.append(f"{where}: two commands of type {kind} have this name")
        seen.add((kind, name))
        menu = kind != CHAT_INPUT
        problems += [f"{where}: {p}" for p in _name_problems(command, menu=menu)]
        if menu:
            if command.get("description") or command.get("options"):
                problems.append(f"{where}: a menu command has no description and no options")
            continue
        problems += [f"{where}: {p}" for p in _description_problems(command)]
        problems += _option_problems(command.get("options", []), where)
        characters = command_characters(command)
        if characters > MAX_COMMAND_CHARACTERS:
            problems.append(
                f"{where}: {characters} characters in names, descriptions and choices; "
                f"Discord allows {MAX_COMMAND_CHARACTERS}"
            )
    return problems


def render() -> str:
    """The commands as JSON, indented, keys sorted, ending with a newline.

    Raises:
        ValueError: when the registry gives commands Discord would refuse.
    """
    commands = discord_commands()
    problems = validate(commands)
    if problems:
        raise ValueError("Discord would refuse these commands:\n" + "\n".join(problems))
    return json.dumps(commands, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(out_dir: str | Path) -> Path:
    """Write `commands.json` into `out_dir` and return its path."""
    path = Path(out_dir) / FILE_NAME
    path.write_text(render(), encoding="utf-8")
    return path
