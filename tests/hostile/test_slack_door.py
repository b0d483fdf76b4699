"""POST /slack/events as a door (G1): whatever arrives, never a 500, never a side effect.

Unsigned, badly signed and stale requests get 401 before anything reads their body; signed
ones that are not Slack payloads get 400; signed payloads of the right shape are answered,
and each command they carry leaves exactly one audit line. The bodies, headers and shapes
are generated (hypothesis) and sent over loopback HTTP to the whole app.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adapters.slack_harness import ADMIN, SECRET, VIEWER, SlackHarness
from tests.adapters.slack_standin import block_actions, interactive, slash_command, view_submission

TABLES = ("audit_log", "jobs", "annotations", "drafts", "grants", "inbound_events")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
HOSTILE = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def counts(slack: SlackHarness) -> dict[str, int]:
    return {table: slack.rows(f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}


def command_lines(slack: SlackHarness) -> int:
    """Audit lines of commands (a job's own progress lines are not commands)."""
    lines: int = slack.rows("SELECT count(*) FROM audit_log WHERE action NOT LIKE 'job.%'")[0][0]
    return lines


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


async def send(slack: SlackHarness, body: bytes, headers: dict[str, str]) -> int:
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    await response.read()
    return response.status


# -- what strangers send ------------------------------------------------------------------

# What HTTP lets a header hold (the client refuses control characters before sending).
HEADER_CHARACTERS = st.characters(codec="latin-1", exclude_categories=["Cc"])
printable = st.characters(codec="utf-8", exclude_categories=["Cs"])
hostile_text = st.text(printable | st.sampled_from("\x00\x07\x1b\u202e\ufeff²٣"), max_size=300)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=500),
    hostile_text.map(str.encode),
    st.dictionaries(hostile_text, hostile_text, max_size=5).map(lambda d: urlencode(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: urlencode({"payload": json.dumps(v)}).encode()),
    st.sampled_from(
        [
            b"{not json",
            b"[1]",
            b"payload=%7Bnot",
            b"payload=" + b"%5B" * 5000,
            b"\xff\xfe\x00\x00",
            b"x" * 200_000,
            b"[" * 50_000,
        ]
    ),
)
content_types = st.sampled_from(
    [
        FORM,
        JSON,
        "text/plain",
        "multipart/form-data; boundary=x",
        "",
        "application/json; charset=latin-1",
    ]
)
timestamps = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.just("9" * 5000),
    st.just("abc"),
    st.just("²"),
    st.just(" 1700000000"),
    st.just(str(int(time.time()) - 301)),
    st.text(HEADER_CHARACTERS, max_size=20),
)
signatures = st.one_of(
    st.text(HEADER_CHARACTERS, max_size=80),
    st.just("v0=" + "0" * 64),
    st.just("v0=é"),
    st.just("v1=" + "a" * 64),
)


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{not json", {}),
        (b"[1]", {"Content-Type": JSON}),
        (b"payload=%7Bnot", {}),
        (b"\xff\xfe\x00raw", {}),
        (b"a=b", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}),
        (b"a=b", {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=00"}),
        (b"a=b", {"X-Slack-Request-Timestamp": "²", "X-Slack-Signature": "v0=" + "0" * 64}),
        (b"a=b", {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": "v0=é"}),
    ],
)
async def test_requests_from_strangers_get_401_before_their_body_is_read(
    slack: SlackHarness, body: bytes, headers: dict[str, str]
) -> None:
    before = counts(slack)
    assert await send(slack, body, {"Content-Type": FORM, **headers}) == 401
    await slack.settle()
    assert counts(slack) == before


async def test_a_signed_request_replayed_after_five_minutes_is_refused(
    slack: SlackHarness,
) -> None:
    body = slash_command("run demo", user=ADMIN, response_url="")
    status, _ = await slack.post(body, timestamp=int(time.time()) - 301)
    assert status == 401
    status, _ = await slack.post(body, timestamp=int(time.time()) + 301)
    assert status == 401
    await slack.settle()
    assert slack.rows("SELECT count(*) FROM jobs") == [(0,)]


@HOSTILE
@given(body=bodies, content_type=content_types, timestamp=timestamps, signature=signatures)
async def test_unsigned_or_stale_requests_get_401_and_change_nothing(
    slack: SlackHarness, body: bytes, content_type: str, timestamp: str, signature: str
) -> None:
    before = counts(slack)
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp}
    if signature:
        headers["X-Slack-Signature"] = signature
    assert await send(slack, body, headers) == 401
    assert counts(slack) == before


@HOSTILE
@given(body=bodies, content_type=content_types)
async def test_a_stale_or_wrong_secret_signature_over_any_body_gets_401(
    slack: SlackHarness, body: bytes, content_type: str
) -> None:
    before = counts(slack)
    now = int(time.time())
    for timestamp, secret in ((str(now - 400), SECRET), (str(now), SECRET[::-1])):
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": sign(body, timestamp, secret),
        }
        assert await send(slack, body, headers) == 401
    assert counts(slack) == before


# -- what Slack could sign -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "payload=%7Bnot",
        urlencode({"payload": "[1]"}),
        urlencode({"payload": '"x"'}),
        interactive({"type": "block_actions", "user": "x", "actions": [{"action_id": "a"}]}),
        interactive({"type": "block_actions", "user": {"id": "U0ADMIN"}, "actions": "x"}),
        interactive({"type": "block_actions", "user": {"id": "U0ADMIN"}, "actions": []}),
        interactive({"type": "block_actions", "user": {"id": "U0ADMIN"}, "actions": [1]}),
        interactive({"type": "view_submission", "user": {"id": "U0ADMIN"}, "view": "x"}),
        interactive({"type": "event_callback", "event": "x"}),
        urlencode({"payload": "[" * 50_000}),
    ],
)
async def test_signed_bodies_that_are_not_slack_payloads_get_400_and_change_nothing(
    slack: SlackHarness, body: str
) -> None:
    before = counts(slack)
    status, answer = await slack.post(body)
    assert status == 400, answer
    await slack.settle()
    assert counts(slack) == before


@pytest.mark.parametrize("json_body", ["[1]", '"x"', "{not json", '{"type": "event_callback"}'])
async def test_signed_json_that_is_not_an_event_gets_400(
    slack: SlackHarness, json_body: str
) -> None:
    status, _ = await slack.post(json_body, json_body=True)
    assert status == 400


async def test_a_slash_command_whose_text_says_payload_is_still_a_command(
    slack: SlackHarness,
) -> None:
    """Bolt takes any body holding the word "payload" for interactivity: 404, no reply."""
    status, answer = await slack.post(
        slash_command("history --limit 2 payload", user=ADMIN, response_url="")
    )
    assert status == 200
    assert "There is no target “payload”." in answer["text"]  # answered, by the core
    await slack.settle()
    assert command_lines(slack) == 1


async def test_a_huge_or_unicode_number_in_a_slash_command_is_answered_and_audited(
    slack: SlackHarness,
) -> None:
    for text in ("alerts retry ²", "alerts retry " + "9" * 5000, "cancel #١٢"):
        status, answer = await slack.post(slash_command(text, user=ADMIN, response_url=""))
        assert status == 200
        assert answer["response_type"] == "ephemeral"
        assert "Type /export help for the list of commands." in answer["text"]
    await slack.settle()
    assert slack.rows("SELECT action, outcome FROM audit_log") == [("invalid", "invalid")] * 3


def _signed_headers(body: bytes, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": sign(body, timestamp),
    }


@HOSTILE
@given(body=bodies, content_type=content_types)
async def test_any_signed_body_is_answered_below_500_and_only_commands_are_audited(
    slack: SlackHarness, body: bytes, content_type: str
) -> None:
    before = counts(slack)
    status = await send(slack, body, _signed_headers(body, content_type))
    assert status < 500
    await slack.settle()
    if status >= 400:
        assert counts(slack) == before  # refused: nothing at all
    assert command_lines(slack) == before["audit_log"]  # no command in random bytes


command_text = st.one_of(
    hostile_text,
    st.lists(
        st.sampled_from(
            [
                "status",
                "history",
                "help",
                "cancel",
                "annotate",
                "alerts",
                "retry",
                "role",
                "list",
                "#1",
                "²",
                "9" * 5000,
                "--limit",
                "--kind",
                '"',
                "demo",
                "-1",
                "٣",
            ]
        )
        | hostile_text,
        max_size=6,
    ).map(" ".join),
)
USERS = st.sampled_from([ADMIN, VIEWER, "U0STRANGER"])


@HOSTILE
@given(text=command_text, user=USERS, team=st.sampled_from(["T0EXPORT", "T0ELSEWHERE"]))
async def test_every_signed_slash_command_is_answered_and_audited_once(
    slack: SlackHarness, text: str, user: str, team: str
) -> None:
    if text.split()[:1] == ["run"]:
        return  # jobs are another suite's; here every command is answered at once
    lines = command_lines(slack)
    status, answer = await slack.post(slash_command(text, user=user, team=team, response_url=""))
    assert status == 200
    assert isinstance(answer, dict) and answer["text"]  # a reply, with its text fallback
    await slack.settle()
    assert command_lines(slack) == lines + 1


button_names = (
    st.sampled_from(
        [
            "job.retry",
            "job.cancel",
            "job.log",
            "draft.approve",
            "draft.reject",
            "draft.submit",
            "target.run",
            "target.prune",
            "job.explode",
            "",
        ]
    )
    | hostile_text
)
button_values = st.one_of(
    hostile_text,
    st.tuples(hostile_text, hostile_text).map(":".join),
    st.sampled_from(["10**30:1", "x:y", "1:", ":", "1" * 5000 + ":0", "1:" + "9" * 5000, "²:0"]),
)


@HOSTILE
@given(name=button_names, value=button_values, user=USERS)
async def test_every_signed_button_press_is_answered_and_audited_once(
    slack: SlackHarness, name: str, value: str, user: str
) -> None:
    if name in ("target.run", "job.retry") and value.startswith("demo"):
        return  # starts a job: covered by the button tests
    lines = command_lines(slack)
    responses = len(slack.standin.responses)
    body = block_actions(name, value, user=user, response_url=slack.standin.response_url("h"))
    status, _ = await slack.post(body)
    assert status == 200
    await slack.settle()
    assert len(slack.standin.responses) == responses + 1  # answered
    assert command_lines(slack) == lines + 1  # and audited, once


def _mutations() -> st.SearchStrategy[tuple[str, list[str], Any]]:
    """A real payload with one documented field replaced by any JSON value."""
    paths = st.sampled_from(
        [
            ["user"],
            ["user", "id"],
            ["team"],
            ["team", "id"],
            ["channel"],
            ["channel", "id"],
            ["actions"],
            ["actions", 0],
            ["actions", 0, "value"],
            ["actions", 0, "action_id"],
            ["container"],
            ["container", "message_ts"],
            ["message"],
            ["response_url"],
            ["trigger_id"],
            ["type"],
            ["enterprise"],
            ["authorizations"],
        ]
    )
    return st.tuples(st.just("block_actions"), paths, json_values)


@HOSTILE
@given(mutation=_mutations())
async def test_a_real_payload_with_one_field_of_another_shape_gets_an_answer_below_500(
    slack: SlackHarness, mutation: tuple[str, list[str], Any]
) -> None:
    _, path, value = mutation
    payload = json.loads(_block_actions_payload())
    where: Any = payload
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = value
    before = counts(slack)
    status, _ = await slack.post(interactive(payload))
    assert status < 500
    await slack.settle()
    if status >= 400:
        assert counts(slack) == before


def _block_actions_payload() -> str:
    body = block_actions("job.log", "1:0", user=ADMIN, response_url="")
    return parse_qs(body)["payload"][0]


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_home_opened"},  # no user
        {"type": "app_home_opened", "user": "", "tab": "home"},
        {"type": "app_mention"},  # no text, channel or user
    ],
)
async def test_a_signed_event_missing_its_fields_is_acknowledged_not_a_500(
    slack: SlackHarness, event: dict[str, Any]
) -> None:
    body = {"type": "event_callback", "team_id": "T0EXPORT", "event_id": "Ev1", "event": event}
    status, _ = await slack.post(json.dumps(body), json_body=True)
    assert status < 500
    await slack.settle()
    assert not slack.standin.called("views.publish")  # nobody to publish a Home tab for


form_callbacks = st.sampled_from(["modal.note", "modal.draft", "modal.unknown"])
form_metadata = st.one_of(
    hostile_text,
    st.fixed_dictionaries(
        {"context": hostile_text | st.sampled_from(["1", "approve:1:1", "9" * 5000, "²"])},
        optional={"channel": hostile_text, "link": hostile_text},
    ).map(json.dumps),
)
form_values = st.dictionaries(
    st.sampled_from(["text", "kind", "target", "cron", "timezone", "keep", "exclude", "comment"]),
    st.one_of(
        st.builds(lambda v: {"type": "plain_text_input", "value": v}, hostile_text),
        st.builds(
            lambda v: {"type": "static_select", "selected_option": {"value": v}}, hostile_text
        ),
        json_values,
    ),
    max_size=6,
)


@HOSTILE
@given(callback=form_callbacks, metadata=form_metadata, values=form_values, user=USERS)
async def test_any_signed_form_submission_is_answered_below_500_and_audited_at_most_once(
    slack: SlackHarness, callback: str, metadata: str, values: dict[str, Any], user: str
) -> None:
    """A modal's submission carries what the person typed and the metadata the bot wrote:
    both can be forged by anyone holding a signed request."""
    lines = command_lines(slack)
    view = {"callback_id": callback, "private_metadata": metadata, "blocks": []}
    status, _ = await slack.post(view_submission(view, values, user=user))
    assert status < 500
    await slack.settle()
    assert command_lines(slack) - lines in (0, 1)
