from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.commands import model as c
from core.commands.grammar import all_verbs, parse, parse_fields
from core.domain.capabilities import Role
from core.domain.model import AnnotationKind
from core.errors import InvalidCommand


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("run demo", c.RunJob("demo")),
        ("  RUN   demo  ", c.RunJob("demo")),
        ("status", c.ShowStatus()),
        ("status demo", c.ShowStatus(target="demo")),
        ("status #12", c.ShowStatus(job_id=12)),
        ("status 12", c.ShowStatus(job_id=12)),
        ("history", c.ShowHistory()),
        ("history demo --limit 3", c.ShowHistory("demo", 3)),
        ("history --limit=3 demo", c.ShowHistory("demo", 3)),
        ("cancel #4", c.CancelJob(4)),
        ('annotate #3 "disk full"', c.Annotate(3, "disk full")),
        (
            "annotate 3 --kind anomaly  disk  was full",
            c.Annotate(3, "disk was full", AnnotationKind.ANOMALY),
        ),
        (
            "annotate 3 relaunched --kind RELAUNCH",
            c.Annotate(3, "relaunched", AnnotationKind.RELAUNCH),
        ),
        ("annotate 3 “smart quotes from Slack”", c.Annotate(3, "smart quotes from Slack")),
        ("annotate 3 -- --kind is text here", c.Annotate(3, "--kind is text here")),
        ("role grant <@U0456> operator", c.GrantRole("<@U0456>", Role.OPERATOR)),
        (
            "role grant bob Export-Manager --target demo",
            c.GrantRole("bob", Role.EXPORT_MANAGER, "demo"),
        ),
        ("role revoke bob operator", c.RevokeRole("bob", Role.OPERATOR)),
        ("role list", c.ListRoles()),
        ("role list bob", c.ListRoles("bob")),
        ("help", c.ShowHelp()),
        ("help annotate", c.ShowHelp("annotate")),
        ("", c.ShowHelp()),
    ],
)
def test_the_grammar_parses_every_verb(text: str, expected: c.Command) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "key", "param", "value"),
    [
        ("rn demo", "error.unknown_verb", "suggestion", "run"),
        ("stauts", "error.unknown_verb", "suggestion", "status"),
        ("role gant bob admin", "error.unknown_subcommand", "suggestion", "grant"),
        ("role", "error.missing_subcommand", "verb", "role"),
        ("run", "error.missing_argument", "param", "target"),
        ("run demo extra", "error.extra_argument", "word", "extra"),
        ("cancel twelve", "error.bad_job_ref", "value", "twelve"),
        ("cancel #0", "error.bad_job_ref", "value", "#0"),
        ("annotate 3", "error.missing_argument", "param", "text"),
        ("annotate 3 --kind oops text", "error.bad_choice", "value", "oops"),
        ("history --limit x", "error.not_a_number", "value", "x"),
        ("history --limit 0", "error.out_of_range", "low", 1),
        ("history --limt 3", "error.unknown_option", "suggestion", "--limit"),
        ("history --limit", "error.option_needs_value", "option", "--limit"),
        ('annotate 3 "never closed', "error.unterminated_quote", "quote", '"'),
        ("role grant bob wizard", "error.bad_role", "role", "wizard"),
        ("run ../etc", "error.bad_name", "value", "../etc"),
    ],
)
def test_bad_input_raises_a_clear_parse_error(
    text: str, key: str, param: str, value: object
) -> None:
    with pytest.raises(InvalidCommand) as caught:
        parse(text)
    assert caught.value.key == key
    assert caught.value.params[param] == value


def test_a_quoted_verb_is_not_a_verb() -> None:
    with pytest.raises(InvalidCommand):
        parse('"run" demo')


def test_usage_lines_come_from_the_registry() -> None:
    usages = {verb.path: verb.usage for verb in all_verbs()}
    assert usages["annotate"] == "annotate <job> [--kind note|relaunch|anomaly] <text…>"
    assert usages["history"] == "history [<target>] [--limit <limit>]"
    assert usages["role grant"] == "role grant <who> <role> [--target <target>]"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=200))
def test_any_text_parses_to_a_command_or_a_clear_error(text: str) -> None:
    try:
        result = parse(text)
    except InvalidCommand as error:
        assert error.key.startswith("error.")
    else:
        assert isinstance(result, c.Command)


_words = st.sampled_from(
    [
        "run",
        "status",
        "history",
        "cancel",
        "annotate",
        "role",
        "grant",
        "revoke",
        "list",
        "help",
        "demo",
        "#3",
        "12",
        "--kind",
        "--limit",
        "--target",
        "note",
        "admin",
        '"',
        "“",
        "--",
        "-",
        "=",
        "--limit=5",
        "<@U1>",
        "'",
        "\\",
    ]
)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(_words, st.text(max_size=8)), max_size=8))
def test_grammar_shaped_noise_never_raises_anything_but_a_parse_error(words: list[str]) -> None:
    with contextlib.suppress(InvalidCommand):
        parse(" ".join(words))


def test_typed_fields_build_the_same_commands_as_text_without_any_quoting() -> None:
    note = 'the "NAS" rebooted  twice'
    assert parse_fields("annotate", {"job": 12, "text": note, "kind": "Anomaly"}) == c.Annotate(
        12, note, AnnotationKind.ANOMALY
    )
    assert parse_fields("run", {"target": "demo"}) == parse("run demo")
    drafted = parse_fields(
        "schedule draft",
        {"target": "demo", "cron": "0 2 * * *", "tz": "UTC", "exclude": "*.tmp  cache/"},
    )
    assert drafted == parse(
        'schedule draft demo --cron "0 2 * * *" --tz UTC --exclude *.tmp --exclude cache/'
    )


@pytest.mark.parametrize(
    ("path", "values", "error"),
    [
        ("annotate", {"text": "x"}, "error.missing_argument"),
        ("run", {"target": "no spaces allowed"}, "error.bad_name"),
        ("history", {"limit": 100000}, "error.out_of_range"),
        ("schedule draft", {"target": "demo", "tz": "UTC"}, "error.missing_option"),
        ("explode", {}, "error.unknown_verb"),
    ],
)
def test_typed_fields_are_checked_like_text(
    path: str, values: dict[str, object], error: str
) -> None:
    with pytest.raises(InvalidCommand) as refused:
        parse_fields(path, values)
    assert refused.value.key == error


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("alerts retry ²", "error.not_a_number", "²"),  # str.isdigit() says yes; int() says no
        ("alerts retry ٣", "error.not_a_number", "٣"),  # an Arabic-Indic three: digits are ASCII
        ("alerts retry " + "9" * 5000, "error.not_a_number", "9" * 5000),  # past int()'s limit
        ("alerts retry 1234567890123", "error.not_a_number", "1234567890123"),  # 13 digits
        ("status #٣", "error.bad_name", "#٣"),
        ("cancel ١٢", "error.bad_job_ref", "١٢"),
        ("cancel #" + "1" * 13, "error.bad_job_ref", "#" + "1" * 13),
        ("history --limit ²", "error.not_a_number", "²"),
        ("history --limit ٣", "error.not_a_number", "٣"),
        ("history --limit 1_0", "error.not_a_number", "1_0"),  # int() reads 10
        ("history --limit +5", "error.not_a_number", "+5"),
        ("history --limit " + "9" * 5000, "error.not_a_number", "9" * 5000),
    ],
)
def test_numbers_are_one_to_twelve_ascii_digits_and_anything_else_is_named(
    text: str, key: str, value: str
) -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse(text)
    assert raised.value.key == key
    assert value in raised.value.params.values()


def test_typed_fields_take_the_same_numbers_as_text() -> None:
    with pytest.raises(InvalidCommand) as raised:
        parse_fields("alerts retry", {"delivery": "²"})
    assert raised.value.key == "error.not_a_number"
    assert parse_fields("alerts retry", {"delivery": "12"}) == c.RetryDelivery(12)
    assert parse_fields("history", {"limit": 7}) == c.ShowHistory(limit=7)


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(categories=("Nd", "No", "Nl")), min_size=1, max_size=20))
def test_no_unicode_number_escapes_the_parser(digits: str) -> None:
    for text in (f"alerts retry {digits}", f"cancel #{digits}", f"history --limit {digits}"):
        try:
            parse(text)
        except InvalidCommand as error:
            assert error.key.startswith("error.")


@pytest.mark.parametrize(
    "text", ["status #2147483648", "cancel #999999999999", "alerts retry 2147483648", "cancel #0"]
)
def test_an_id_past_what_an_integer_column_holds_names_no_record(text: str) -> None:
    with pytest.raises(InvalidCommand):
        parse(text)
    assert parse("cancel #2147483647") == c.CancelJob(2147483647)


@pytest.mark.parametrize("words", ["\u200b", "\u2066 \u2069", "\ufeff\u200e", "\u202e"])
def test_a_note_with_nothing_visible_is_missing_its_text(words: str) -> None:
    # Zero-width and bidi characters alone read as nothing: such a note would show empty.
    with pytest.raises(InvalidCommand) as typed:
        parse(f"annotate #3 {words}")
    with pytest.raises(InvalidCommand) as sent:
        parse_fields("annotate", {"job": 3, "text": words})
    assert typed.value.key == sent.value.key == "error.missing_argument"
    assert parse("annotate #3 \u200bok") == c.Annotate(3, "\u200bok")  # words are kept as typed
