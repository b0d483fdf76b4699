"""One parser for every platform: text in, a `Command` or an `InvalidCommand` out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from core.commands.grammar.registry import REGISTRY, Kind, Option, Param, Verb, find_verb
from core.commands.grammar.tokens import Token, tokenize
from core.commands.model import Command, ShowHelp
from core.commands.moments import parse_moment
from core.commands.numbers import record_id, whole_number
from core.commands.suggest import suggest
from core.domain.capabilities import parse_role
from core.errors import InvalidCommand
from core.safety.text import has_words

MAX_TEXT_LENGTH = 2000
_JOB_REF = re.compile(r"#?([0-9]{1,12})")  # ASCII digits only (core/commands/numbers.py)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def parse(text: str) -> Command:
    """Parse one command line. Raise `InvalidCommand` (with usage/suggestion) on bad input."""
    tokens = tokenize(text)
    if not tokens:
        return ShowHelp()
    verb = _find_verb(tokens[0], REGISTRY, group="")
    rest = tokens[1:]
    while verb.subverbs:
        if not rest:
            raise InvalidCommand("error.missing_subcommand", verb=verb.path, usage=verb.usage)
        verb = _find_verb(rest[0], verb.subverbs, group=verb.path)
        rest = rest[1:]
    args = _bind(verb, rest)
    assert verb.build is not None
    return verb.build(args)


def parse_fields(path: str, values: Mapping[str, object]) -> Command:
    """A command whose arguments came typed and named (Discord's application-command options)
    rather than as a line: `values` by registry name, the same conversions and checks as
    `parse`, and no quoting to get wrong on the way (a note keeps its quotes)."""
    verb = find_verb(path)
    if verb is None or verb.build is None:
        raise InvalidCommand("error.unknown_verb", word=path, suggestion="")
    args: dict[str, Any] = {o.name: o.default for o in verb.options}
    for option in verb.options:
        value = values.get(option.name)
        if value is None or value == "":
            if option.required:
                raise InvalidCommand(
                    "error.missing_option", option=f"--{option.name}", usage=verb.usage
                )
        elif option.kind is Kind.FLAG:
            args[option.name] = bool(value)
        elif option.repeat:  # one field holds them all, separated by spaces
            args[option.name] = [_convert_option(option, v, verb) for v in str(value).split()]
        else:
            args[option.name] = _convert_option(option, str(value), verb)
    for param in verb.params:
        value = values.get(param.name)
        text = "" if value is None else str(value).strip()
        if not text or (param.kind is Kind.TEXT and not has_words(text)):
            if param.required:
                raise InvalidCommand("error.missing_argument", param=param.name, usage=verb.usage)
            continue
        if param.kind is Kind.TEXT and len(text) > MAX_TEXT_LENGTH:
            raise InvalidCommand("error.text_too_long", limit=MAX_TEXT_LENGTH)
        args[param.name] = text if param.kind is Kind.TEXT else _convert(param, text, verb)
    return verb.build(args)


def _find_verb(token: Token, verbs: tuple[Verb, ...], group: str) -> Verb:
    word = token.value.lower()
    for verb in verbs:
        if verb.name == word and not token.quoted:
            return verb
    names = [v.name for v in verbs]
    if group:
        raise InvalidCommand(
            "error.unknown_subcommand",
            word=token.value,
            verb=group,
            choices=", ".join(names),
            suggestion=suggest(word, names),
        )
    raise InvalidCommand("error.unknown_verb", word=token.value, suggestion=suggest(word, names))


def _bind(verb: Verb, tokens: list[Token]) -> dict[str, Any]:
    args: dict[str, Any] = {o.name: o.default for o in verb.options}
    positionals: list[Token] = []
    options_done = False
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not token.quoted and not options_done and token.value == "--":
            options_done = True
            continue
        if not token.quoted and not options_done and token.value.startswith("--"):
            name, has_value, value = token.value[2:].partition("=")
            option = verb.option(name.lower())
            if option is None:
                raise InvalidCommand(
                    "error.unknown_option",
                    option=token.value,
                    verb=verb.path,
                    usage=verb.usage,
                    suggestion=_suggest_option(name, verb),
                )
            if option.kind is Kind.FLAG:
                if has_value:
                    raise InvalidCommand(
                        "error.flag_takes_no_value", option=f"--{option.name}", usage=verb.usage
                    )
                args[option.name] = True
                continue
            if not has_value:
                if i >= len(tokens):
                    raise InvalidCommand(
                        "error.option_needs_value", option=f"--{option.name}", usage=verb.usage
                    )
                value = tokens[i].value
                i += 1
            converted = _convert_option(option, value, verb)
            if option.repeat:
                args[option.name] = [*(args[option.name] or []), converted]
            else:
                args[option.name] = converted
            continue
        positionals.append(token)
    _bind_positionals(verb, positionals, args)
    for option in verb.options:
        if option.required and args[option.name] is None:
            raise InvalidCommand(
                "error.missing_option", option=f"--{option.name}", usage=verb.usage
            )
    return args


def _bind_positionals(verb: Verb, tokens: list[Token], args: dict[str, Any]) -> None:
    for index, param in enumerate(verb.params):
        if param.kind is Kind.TEXT:
            words = [t.value for t in tokens[index:]]
            text = " ".join(words).strip()
            if not has_words(text) and not param.required:
                return
            if not has_words(text):
                raise InvalidCommand("error.missing_argument", param=param.name, usage=verb.usage)
            if len(text) > MAX_TEXT_LENGTH:
                raise InvalidCommand("error.text_too_long", limit=MAX_TEXT_LENGTH)
            args[param.name] = text
            return
        if index >= len(tokens):
            if param.required:
                raise InvalidCommand("error.missing_argument", param=param.name, usage=verb.usage)
            continue
        args[param.name] = _convert(param, tokens[index].value, verb)
    extra = tokens[len(verb.params) :]
    if extra:
        raise InvalidCommand("error.extra_argument", word=extra[0].value, usage=verb.usage)


def _convert(param: Param, value: str, verb: Verb) -> Any:
    kind = param.kind
    if kind is Kind.JOB:
        return _number_ref(value, "error.bad_job_ref")
    if kind is Kind.DRAFT:
        return _number_ref(value, "error.bad_draft_ref")
    if kind is Kind.CHOICE:
        return _choice(value, param.choices, f"<{param.name}>")
    if kind is Kind.SUBJECT:
        return (
            _number_ref(value, "error.bad_job_ref")
            if _JOB_REF.fullmatch(value)
            else (_name(value, param.name))
        )
    if kind is Kind.TARGET:
        return _name(value, param.name)
    if kind is Kind.INT:  # an id (a delivery's)
        number = record_id(value.removeprefix("#"))
        if number is None:
            raise InvalidCommand("error.not_a_number", option=f"<{param.name}>", value=value)
        return number
    if kind is Kind.ROLE:
        role = parse_role(value)
        if role is None:
            raise InvalidCommand(
                "error.bad_role",
                role=value,
                choices=", ".join(param.choices),
                suggestion=suggest(value, list(param.choices)),
            )
        return role
    if kind is Kind.WHO:
        if not value.strip():
            raise InvalidCommand("error.missing_argument", param=param.name, usage=verb.usage)
        return value.strip()
    return value


def _convert_option(option: Option, value: str, verb: Verb) -> Any:
    if option.kind is Kind.CHOICE:
        return _choice(value, option.choices, f"--{option.name}")
    if option.kind is Kind.INT:
        number = whole_number(value)
        if number is None:
            raise InvalidCommand("error.not_a_number", option=f"--{option.name}", value=value)
        low = option.minimum if option.minimum is not None else number
        high = option.maximum if option.maximum is not None else number
        if not low <= number <= high:
            raise InvalidCommand(
                "error.out_of_range", option=f"--{option.name}", value=value, low=low, high=high
            )
        return number
    if option.kind is Kind.TARGET:
        return _name(value, option.name)
    if option.kind is Kind.DATE:
        moment = parse_moment(value)
        if moment is None:
            raise InvalidCommand(
                "error.bad_date", option=f"--{option.name}", value=value, usage=verb.usage
            )
        return moment
    return value


def _choice(value: str, choices: tuple[str, ...], label: str) -> str:
    lowered = value.lower()
    if lowered not in choices:
        raise InvalidCommand(
            "error.bad_choice", option=label, value=value, choices=", ".join(choices)
        )
    return lowered


def _number_ref(value: str, error_key: str) -> int:
    number = record_id(value.removeprefix("#"))
    if number is None:
        raise InvalidCommand(error_key, value=value)
    return number


def _name(value: str, param: str) -> str:
    if not _NAME.fullmatch(value):
        raise InvalidCommand("error.bad_name", value=value, param=param)
    return value


def _suggest_option(name: str, verb: Verb) -> str:
    found = suggest(name, [o.name for o in verb.options])
    return f"--{found}" if found else ""
