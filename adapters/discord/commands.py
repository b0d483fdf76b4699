"""An application command's options back into the one grammar's verb and arguments.

`/export history target:demo limit:20` arrives as nested options (a subcommand, maybe inside a
group, then typed values); this gives the verb path and the values by registry name, for
`CommandService.execute_fields`, and the line a person would have typed, for the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.commands.grammar.registry import Kind, Option, Param, Verb, all_verbs, find_verb

COMMAND = "export"
# The admin verbs have a command of their own: one cannot hold every verb within Discord's
# 4,000 characters of names, descriptions and choices. Both rebuild the one grammar's text.
ADMIN_COMMAND = "export-admin"
ADMIN_VERBS = frozenset(
    {"role", "apikey", "subscribe", "unsubscribe", "subscriptions", "quota", "audit", "alerts"}
)
ANNOTATE_COMMAND = "Annotate export job"  # what Discord sends back as the interaction's name
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2  # Discord's option types that nest commands
# `*` is not allowed in a Discord name. Parameters are positional in the grammar, so their
# option name never appears in the rebuilt text; the adapter maps it back with `option_name`.
_RENAMED = {"target-or-*": "target"}


def command_of(path: str) -> str:
    """The application command a verb path is found under (`role grant`: `export-admin`)."""
    return ADMIN_COMMAND if path.split(" ", 1)[0] in ADMIN_VERBS else COMMAND


def option_name(registry_name: str) -> str:
    """The Discord option name of a registry parameter or option (bot/manifests/discord.py
    declares the commands with it)."""
    return _RENAMED.get(registry_name, registry_name).lower()


@dataclass(frozen=True)
class Invocation:
    path: str  # "run", "role grant"
    values: dict[str, object]  # by registry name
    focused: str = ""  # the registry name of the option being typed (autocomplete)

    @property
    def verb(self) -> Verb | None:
        return find_verb(self.path)

    def as_text(self) -> str:
        """The command as it would be typed: how the audit log shows it."""
        verb = self.verb
        words = [self.path]
        if verb is None:
            return self.path
        for param in verb.params:
            if param.name in self.values:
                words.append(_shown(param, self.values[param.name]))
        for option in verb.options:
            value = self.values.get(option.name)
            if value is None or value is False:
                continue
            words.append(f"--{option.name}")
            if option.kind is not Kind.FLAG:
                words.append(_shown(option, value))
        return " ".join(words)


def _shown(argument: Param | Option, value: object) -> str:
    if argument.kind in (Kind.JOB, Kind.DRAFT):
        return f"#{value}"
    text = str(value)
    return (
        f'"{text}"' if any(c.isspace() for c in text) and argument.kind is not Kind.TEXT else text
    )


def invocation(data: Mapping[str, Any]) -> Invocation:
    """The verb and arguments of an APPLICATION_COMMAND (or its autocomplete) interaction."""
    words: list[str] = []
    options: list[dict[str, Any]] = list(data.get("options") or [])
    while len(options) == 1 and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        words.append(str(options[0]["name"]))
        options = list(options[0].get("options") or [])
    path = " ".join(words) or "help"
    arguments = _ARGUMENTS.get(path, {})
    values: dict[str, object] = {}
    focused = ""
    for option in options:
        argument = arguments.get(str(option.get("name")))
        if argument is None:
            continue  # an option this version does not know: commands.json is older or newer
        value = option.get("value")
        if argument.kind is Kind.WHO and value:
            value = f"<@{value}>"  # a user option carries the id; the grammar takes a mention
        values[argument.name] = value
        if option.get("focused"):
            focused = argument.name
    return Invocation(path, values, focused)


# Each verb's arguments by their Discord option name, worked out once, not per interaction.
def _by_option_name(verb: Verb) -> dict[str, Param | Option]:
    arguments: list[Param | Option] = [*verb.params, *verb.options]
    return {option_name(a.name): a for a in arguments}


_ARGUMENTS = {verb.path: _by_option_name(verb) for verb in all_verbs()}
