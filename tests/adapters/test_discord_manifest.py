"""The Discord application commands are generated from the registry, valid, and checked in."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.commands import (
    ADMIN_COMMAND,
    ADMIN_VERBS,
    ANNOTATE_COMMAND,
    COMMAND,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    command_of,
    option_name,
)
from bot.cli import main
from bot.manifests import discord
from bot.manifests.discord import (
    BOOLEAN,
    CHAT_INPUT,
    INTEGER,
    MESSAGE,
    STRING,
    USER,
    argument_key,
    discord_commands,
    render,
    validate,
)
from core.commands.grammar.registry import REGISTRY, Kind, Option, Param, Verb, all_verbs
from core.domain.capabilities import Role
from core.i18n import Translator
from tests.e2e.conftest import EXPORTBOT, clean_env

ROOT = Path(__file__).resolve().parents[2]
CHECKED_IN = ROOT / "manifest" / "discord" / "commands.json"
REGENERATE = ".venv/bin/exportbot manifest discord > manifest/discord/commands.json"

Command = dict[str, Any]


@pytest.fixture
def commands() -> list[Command]:
    return discord_commands()


def _command(commands: list[Command], name: str) -> Command:
    (command,) = [c for c in commands if c["type"] == CHAT_INPUT and c["name"] == name]
    return command


def _export(commands: list[Command]) -> Command:
    return _command(commands, COMMAND)


def _arguments(verb: Verb) -> tuple[Param | Option, ...]:
    """A verb's parameters, then its options."""
    return (*verb.params, *verb.options)


def _subcommand(commands: list[Command], path: str) -> Command:
    """The subcommand for a verb path ("run", "role grant"), walking groups."""
    entry = _command(commands, command_of(path))
    for word in path.split():
        (entry,) = [o for o in entry["options"] if o["name"] == word]
    assert entry["type"] == SUB_COMMAND, path
    return entry


def _options(commands: list[Command], path: str) -> dict[str, Command]:
    return {o["name"]: o for o in _subcommand(commands, path).get("options", [])}


# The checked-in file


def test_the_checked_in_commands_are_the_generated_ones() -> None:
    assert CHECKED_IN.is_file(), f"manifest/discord/commands.json is missing; run: {REGENERATE}"
    assert CHECKED_IN.read_text(encoding="utf-8") == render(), (
        f"manifest/discord/commands.json has drifted from the registry; regenerate it: {REGENERATE}"
    )


def test_the_json_is_indented_with_sorted_keys_and_a_final_newline() -> None:
    text = render()
    assert text.endswith("}\n]\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert json.loads(text) == discord_commands()


def test_the_generated_commands_break_no_discord_limit(commands: list[Command]) -> None:
    assert validate(commands) == []
    assert validate(json.loads(CHECKED_IN.read_text(encoding="utf-8"))) == []


# validate() catches each limit


def _first_option(commands: list[Command], path: str = "annotate") -> Command:
    option: Command = _subcommand(commands, path)["options"][0]
    return option


def _name_of_33(commands: list[Command]) -> None:
    _first_option(commands)["name"] = "j" * 33


def _upper_case_name(commands: list[Command]) -> None:
    _subcommand(commands, "run")["name"] = "Run"


def _name_with_a_star(commands: list[Command]) -> None:
    _first_option(commands, "subscribe")["name"] = "target-or-*"


def _description_of_101(commands: list[Command]) -> None:
    _first_option(commands)["description"] = "d" * 101


def _empty_description(commands: list[Command]) -> None:
    _export(commands)["description"] = ""


def _localized_description_of_101(commands: list[Command]) -> None:
    _subcommand(commands, "run")["description_localizations"] = {"fr": "d" * 101}


def _26_options(commands: list[Command]) -> None:
    options = _subcommand(commands, "help")["options"]
    options[:] = [{**options[0], "name": f"word{i}"} for i in range(26)]


def _26_subcommands(commands: list[Command]) -> None:
    export = _export(commands)
    run = _subcommand(commands, "run")
    extra = [{**run, "name": f"verb{i}"} for i in range(26 - len(export["options"]))]
    export["options"] += extra


def _required_after_optional(commands: list[Command]) -> None:
    options = _subcommand(commands, "history")["options"]
    options[1]["required"] = True  # --limit, after the optional <target>


def _26_choices(commands: list[Command]) -> None:
    kind = _options(commands, "annotate")["kind"]
    kind["choices"] = [{"name": f"c{i}", "value": f"c{i}"} for i in range(26)]


def _choices_and_autocomplete(commands: list[Command]) -> None:
    _options(commands, "annotate")["kind"]["autocomplete"] = True


def _duplicate_names(commands: list[Command]) -> None:
    options = _subcommand(commands, "quota")["options"]
    options[1]["name"] = options[0]["name"]


def _too_many_characters(commands: list[Command]) -> None:
    # Every description at its allowed 100 characters: each is fine, their sum is not.
    def stretch(entry: Command) -> None:
        entry["description"] = "d" * 100
        entry.pop("description_localizations", None)
        for option in entry.get("options", []):
            stretch(option)

    stretch(_export(commands))


def _long_french_counts(commands: list[Command]) -> None:
    # Discord counts the longest text of each field, localizations included.
    def stretch(entry: Command) -> None:
        entry["description_localizations"] = {"fr": "d" * 100}
        for option in entry.get("options", []):
            stretch(option)

    stretch(_export(commands))


def _menu_with_a_description(commands: list[Command]) -> None:
    (annotate,) = [c for c in commands if c["type"] == MESSAGE]
    annotate["description"] = "Annotate"


def _group_holding_an_option(commands: list[Command]) -> None:
    (group,) = [o for o in _command(commands, ADMIN_COMMAND)["options"] if o["name"] == "role"]
    assert group["type"] == SUB_COMMAND_GROUP
    group["options"].append(_first_option(commands, "run"))


@pytest.mark.parametrize(
    ("break_it", "problem"),
    [
        (_name_of_33, "/export › annotate › " + "j" * 33 + ": a name must have 1–32 characters"),
        (_upper_case_name, "/export › Run: a name must be lower case"),
        (_name_with_a_star, "a name may only hold letters, digits, - and _: 'target-or-*'"),
        (_description_of_101, "/export › annotate › job: a description must have 1–100"),
        (_empty_description, "/export: a description must have 1–100 characters: ''"),
        (_localized_description_of_101, "/export › run: a description must have 1–100"),
        (_26_options, "/export › help: 26 options; Discord allows 25 at one level"),
        (_26_subcommands, "/export: 26 options; Discord allows 25 at one level"),
        (_required_after_optional, "history › limit: a required option comes after an optional"),
        (_26_choices, "/export › annotate › kind: 26 choices; Discord allows 25"),
        (_choices_and_autocomplete, "kind: choices and autocomplete exclude each other"),
        (_duplicate_names, "/export-admin › quota: two options are named 'target'"),
        (_too_many_characters, "characters in names, descriptions and choices; Discord allows"),
        (_long_french_counts, "characters in names, descriptions and choices; Discord allows"),
        (_menu_with_a_description, "'Annotate export job': a menu command has no description"),
        (_group_holding_an_option, "/export-admin › role › target: a subcommand group holds only"),
    ],
)
def test_validate_names_each_broken_limit(
    commands: list[Command], break_it: Callable[[list[Command]], None], problem: str
) -> None:
    broken = copy.deepcopy(commands)
    break_it(broken)
    problems = validate(broken)
    assert [p for p in problems if problem in p], problems
    assert validate(commands) == []  # the fixture itself was fine


def test_the_character_count_takes_every_level_and_choice() -> None:
    command = {
        "name": "abc",
        "description": "de",
        "description_localizations": {"fr": "fghi"},
        "options": [{"name": "j", "description": "k", "choices": [{"name": "l", "value": "mn"}]}],
    }
    assert discord.command_characters(command) == 3 + 4 + 1 + 1 + 1 + 2


def test_a_registry_of_more_than_25_verbs_is_refused_not_split(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crowded = tuple(Verb(f"verb{i}", None) for i in range(26))
    monkeypatch.setattr(discord, "REGISTRY", crowded)
    assert len(_export(discord_commands())["options"]) == 26
    with pytest.raises(ValueError, match="26 options; Discord allows 25"):
        render()


def test_a_sub_verb_with_sub_verbs_cannot_be_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    deep = Verb("a", None, subverbs=(Verb("a b", None, subverbs=(Verb("a b c", None),)),))
    monkeypatch.setattr(discord, "REGISTRY", (deep,))
    with pytest.raises(ValueError, match="a b"):
        discord_commands()


# The shape: every verb, typed options


def test_each_command_has_one_entry_per_top_level_verb_and_groups_for_sub_verbs(
    commands: list[Command],
) -> None:
    export, admin = _export(commands), _command(commands, ADMIN_COMMAND)
    assert [o["name"] for o in admin["options"]] == [
        v.name for v in REGISTRY if v.name in ADMIN_VERBS
    ]
    assert [o["name"] for o in export["options"]] == [
        v.name for v in REGISTRY if v.name not in ADMIN_VERBS
    ]
    assert {v.name for v in REGISTRY} >= ADMIN_VERBS  # no admin verb was renamed away
    options = [*export["options"], *admin["options"]]
    groups = {o["name"] for o in options if o["type"] == SUB_COMMAND_GROUP}
    assert groups == {"role", "schedule", "alerts"}
    assert {v.name for v in REGISTRY if v.subverbs} == groups


def test_every_registry_verb_is_reachable_as_a_subcommand(commands: list[Command]) -> None:
    reached = []

    def walk(entry: Command, path: list[str]) -> None:
        for option in entry.get("options", []):
            if option["type"] == SUB_COMMAND:
                reached.append(" ".join([*path, option["name"]]))
            elif option["type"] == SUB_COMMAND_GROUP:
                walk(option, [*path, option["name"]])

    walk(_export(commands), [])
    walk(_command(commands, ADMIN_COMMAND), [])
    assert sorted(reached) == sorted(verb.path for verb in all_verbs())
    assert len(reached) == len(set(reached))


def test_options_carry_the_registry_names_so_the_text_can_be_rebuilt(
    commands: list[Command],
) -> None:
    for verb in all_verbs():
        expected = [option_name(a.name) for a in _arguments(verb)]
        assert sorted(_options(commands, verb.path)) == sorted(expected), verb.path
    assert option_name("target-or-*") == "target"
    assert option_name("keep-days") == "keep-days"


def test_required_options_come_first_in_registry_order(commands: list[Command]) -> None:
    draft = _subcommand(commands, "schedule draft")["options"]
    assert [(o["name"], o.get("required", False)) for o in draft] == [
        ("target", True),
        ("cron", True),
        ("tz", True),
        ("keep", False),
        ("keep-days", False),
        ("exclude", False),
    ]
    review = _subcommand(commands, "schedule review")["options"]
    assert [o["name"] for o in review] == ["draft", "decision", "comment", "version"]


def test_option_types_follow_the_kinds(commands: list[Command]) -> None:
    run = _options(commands, "run")["target"]
    assert run == {
        "type": STRING,
        "name": "target",
        "description": "Target name",
        "description_localizations": {"fr": "Nom de la cible"},  # from the catalog
        "required": True,
        "autocomplete": True,
    }
    assert _options(commands, "status")["job-or-target"]["autocomplete"] is True
    limit = _options(commands, "history")["limit"]
    assert (limit["type"], limit["min_value"], limit["max_value"]) == (INTEGER, 1, 100)
    assert "(default 10)" in limit["description"]
    assert "(par défaut 10)" in limit["description_localizations"]["fr"]
    annotate = _options(commands, "annotate")
    assert (annotate["job"]["type"], annotate["job"]["min_value"]) == (INTEGER, 1)
    assert (annotate["text"]["type"], annotate["text"]["required"]) == (STRING, True)
    assert [c["value"] for c in annotate["kind"]["choices"]] == ["note", "relaunch", "anomaly"]
    assert "autocomplete" not in annotate["kind"]
    grant = _options(commands, "role grant")
    assert grant["who"]["type"] == USER
    assert [c["value"] for c in grant["role"]["choices"]] == [r.value for r in Role]
    assert _options(commands, "schedule submit")["draft"]["type"] == INTEGER
    assert _options(commands, "quota")["recount"]["type"] == BOOLEAN
    assert "required" not in _options(commands, "quota")["recount"]
    keep_days = _options(commands, "schedule draft")["keep-days"]
    assert (keep_days["type"], keep_days["min_value"], keep_days["max_value"]) == (
        INTEGER,
        1,
        36_500,
    )
    assert _options(commands, "alerts retry")["delivery"]["type"] == INTEGER
    assert _options(commands, "subscribe")["target"]["type"] == STRING


def test_more_than_25_choices_become_autocomplete(monkeypatch: pytest.MonkeyPatch) -> None:
    many = tuple(f"c{i}" for i in range(26))
    verb = Verb("pick", None, params=(Param("what", Kind.CHOICE, choices=many),))
    monkeypatch.setattr(discord, "REGISTRY", (verb,))
    (what,) = _subcommand(discord_commands(), "pick")["options"]
    assert what["autocomplete"] is True and "choices" not in what


def test_descriptions_are_the_catalogs_summaries_with_french(commands: list[Command]) -> None:
    def fitted(text: str) -> str:
        return text if len(text) <= 100 else text[:99].rstrip() + "…"

    english, french = Translator("en"), Translator("fr")
    for verb in all_verbs():
        entry = _subcommand(commands, verb.path)
        assert entry["description"] == fitted(english.t(verb.summary_key))
        assert entry["description_localizations"]["fr"] == fitted(french.t(verb.summary_key))
    assert _export(commands)["description_localizations"]["fr"].startswith("Lancer")


def test_the_message_command_annotates_in_guilds_and_dms(commands: list[Command]) -> None:
    (annotate,) = [c for c in commands if c["type"] == MESSAGE]
    assert annotate == {
        "type": MESSAGE,
        "name": ANNOTATE_COMMAND,
        "name_localizations": {"fr": "Annoter le job d'export"},
        "integration_types": [0],
        "contexts": [0, 1],
    }
    assert Translator("en").t("slack.manifest.shortcut.annotate") == ANNOTATE_COMMAND
    for name in (COMMAND, ADMIN_COMMAND):
        slash = _command(commands, name)
        assert (slash["name"], slash["integration_types"], slash["contexts"]) == (
            name,
            [0],
            [0, 1],
        )
    assert [c["type"] for c in commands] == [CHAT_INPUT, CHAT_INPUT, MESSAGE]


# The command line


def test_exportbot_manifest_discord_prints_the_json_without_touching_a_database(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [EXPORTBOT, "manifest", "discord"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == render()
    assert json.loads(done.stdout)[0]["name"] == "export"
    assert list(tmp_path.iterdir()) == []  # no var/, no database file


def test_exportbot_manifest_discord_out_writes_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in [n for n in os.environ if n.startswith("EXPORTBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    assert main(["manifest", "discord", "--out", "commands.json"]) == 0
    assert (tmp_path / "commands.json").read_text(encoding="utf-8") == render()
    assert capsys.readouterr().out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["commands.json"]


def test_every_argument_is_described_in_english_and_french_from_the_catalog() -> None:
    for verb in all_verbs():
        for argument in _arguments(verb):
            key = argument_key(argument)
            for locale in ("en", "fr"):
                assert Translator(locale).has(key), (verb.path, argument.name, locale)
