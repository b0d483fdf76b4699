"""Outbound webhook senders (A5) against a loopback stand-in of each receiver: what each
format posts, how each answer maps to retry / wait / give up, and that the URL (a secret)
never shows in an error."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import traceback
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

import aiohttp
import pytest

from adapters.webhooks import WebhookSender, guarded_session, webhook_senders
from adapters.webhooks.guard import GuardedResolver
from adapters.webhooks.render import payload as render_payload
from bot.bootstrap import WEBHOOK_RENDERERS
from core.delivery.sender_keys import SenderKey
from core.delivery.senders import DeliveryError, MessageRef, RetryAfter, Upload
from core.delivery.webhooks import WebhookFormat, shown_url
from core.domain.events import EventKind, OutboxEvent
from core.domain.subscriptions import AlertKind, Severity
from core.i18n import Translator
from core.views.alerts import AlertSettings, alert_message
from core.views.message import Action, Field, Image, Message, Tone
from tests.adapters.webhook_standin import (
    DROP,
    HANG,
    JSON_TOKEN,
    SECRETS,
    Failure,
    StaticResolver,
    WebhookStandIn,
    rate_limited,
    status,
    webhook_standin,
)
from tests.examples import failed_job

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
SECRET = b"webhook-secret"
SETTINGS = AlertSettings(
    "https://bot.example.org", b"link-secret", runbooks={"failed": "https://wiki.example.org/rb"}
)
IDS = {
    WebhookFormat.SLACK: "11",
    WebhookFormat.DISCORD: "12",
    WebhookFormat.TEAMS: "13",
    WebhookFormat.JSON: "14",
}
payload = partial(render_payload, renderers=WEBHOOK_RENDERERS)
SLACK_BLOCK_TYPES = {"header", "section", "image", "actions", "context", "divider"}


def failed_alert() -> Message:
    """The alert the dispatcher sends when a job fails: link fields and bot-only buttons."""
    job = failed_job(NOW)
    event = OutboxEvent(EventKind.JOB_ENDED, "demo", NOW, {"job": 7, "state": "failed"})
    return alert_message(
        Translator("en"), event, AlertKind.FAILED, Severity.CRITICAL, SETTINGS, NOW, job
    )


ALERT = failed_alert()
LINKS = {f.value for f in ALERT.fields if f.value.startswith("https://")}
PLAIN = [f for f in ALERT.fields if not f.value.startswith("https://")]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookStandIn]:
    async with webhook_standin() as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The bot's webhook session; the stand-in is on loopback, so private is allowed."""
    async with guarded_session(allow_private=True) as client:
        yield client


@pytest.fixture
def hooks(receiver: WebhookStandIn) -> dict[str, str]:
    """Webhook id → URL, as the webhooks table would answer."""
    return {
        IDS[WebhookFormat.SLACK]: receiver.slack_url,
        IDS[WebhookFormat.DISCORD]: receiver.discord_url,
        IDS[WebhookFormat.TEAMS]: receiver.teams_url,
        IDS[WebhookFormat.JSON]: receiver.json_url,
    }


def make_sender(
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
    fmt: WebhookFormat,
    *,
    secret: bytes = SECRET,
    timeout: float = 5.0,
) -> WebhookSender:
    async def resolve(webhook_id: str) -> str | None:
        return hooks.get(webhook_id)

    return WebhookSender(
        session, fmt, resolve, renderers=WEBHOOK_RENDERERS, secret=secret, timeout=timeout
    )


def all_strings(value: Any) -> list[str]:
    """Every string inside a JSON value, keys included."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *all_strings(v)]]
    if isinstance(value, list):
        return [s for item in value for s in all_strings(item)]
    return [value] if isinstance(value, str) else []


def assert_no_bot_buttons(body: Any) -> None:
    strings = all_strings(body)
    for action in ALERT.actions:
        assert action.name not in strings
        assert action.label not in strings


# -- what each format posts ----------------------------------------------------------------


async def test_slack_gets_the_status_in_text_and_valid_blocks_with_link_buttons(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    sender = make_sender(session, hooks, WebhookFormat.SLACK)
    ref = await sender.post("11", ALERT, key="delivery-1")

    assert ref == MessageRef("11", "") and not sender.edits and not sender.threads
    [received] = receiver.received
    assert received.method == "POST" and received.path.endswith(SECRETS[0])
    assert received.headers["Content-Type"] == "application/json"
    body = received.json()
    assert ALERT.title in body["text"] and ALERT.status in body["text"]
    blocks = body["blocks"]
    assert 0 < len(blocks) <= 50 and {b["type"] for b in blocks} <= SLACK_BLOCK_TYPES
    assert blocks[0]["type"] == "header" and ALERT.title in blocks[0]["text"]["text"]
    assert blocks[0]["text"]["type"] == "plain_text" and len(blocks[0]["text"]["text"]) <= 150
    assert blocks[1]["text"]["text"] == f"*{ALERT.status}*"
    for block in blocks:
        if block["type"] == "section":
            assert ("text" in block) != ("fields" in block)
            assert len(block.get("fields", [])) <= 10
            texts = [block["text"]] if "text" in block else block["fields"]
            assert all(t["type"] == "mrkdwn" and 0 < len(t["text"]) <= 3000 for t in texts)
    field_texts = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert field_texts == [f"*{f.label}*\n{f.value}" for f in PLAIN]
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert {e["url"] for e in actions["elements"]} == LINKS
    for button in actions["elements"]:
        assert button["type"] == "button" and "value" not in button
        assert 0 < len(button["accessibility_label"]) <= 75
        assert len(button["text"]["text"]) <= 75
    assert_no_bot_buttons(body)


async def test_slack_text_cannot_mention_the_channel(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    sender = make_sender(session, hooks, WebhookFormat.SLACK)
    message = Message(title="t", status="<!channel> & more", sections=("<!here>",))
    await sender.post("11", message)

    body = receiver.received[0].json()
    assert body["text"] == "t — &lt;!channel&gt; &amp; more\n\n&lt;!here&gt;"
    mrkdwn = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert mrkdwn == ["*&lt;!channel&gt; &amp; more*", "&lt;!here&gt;"]


async def test_discord_waits_for_the_message_and_returns_its_id(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    sender = make_sender(session, hooks, WebhookFormat.DISCORD)
    ref = await sender.post("12", ALERT, key="delivery-1")

    assert sender.edits and not sender.threads
    [received] = receiver.received
    assert received.method == "POST" and received.query["wait"] == "true"
    assert ref == MessageRef("12", next(iter(receiver.discord_messages)))
    body = received.json()
    assert body["allowed_mentions"] == {"parse": []} and "components" not in body
    [embed] = body["embeds"]
    assert ALERT.status in embed["title"] and ALERT.title in embed["title"]
    assert isinstance(embed["color"], int) and embed["color"] > 0
    assert [(f["name"], f["value"]) for f in embed["fields"]] == [(f.label, f.value) for f in PLAIN]
    for field in ALERT.fields:
        if field.value in LINKS:
            assert f"[{field.label}]({field.value})" in embed["description"]
    assert all(section.split()[0] in embed["description"] for section in ALERT.sections)
    assert_no_bot_buttons(body)


async def test_discord_embed_shows_markup_in_its_title_and_field_names_as_written(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    # Found by tests/adapters/test_text_safety.py: the webhook embed's title and field names
    # went out unescaped, so a target named `*demo*` showed in italics.
    message = Message(
        title="Job #7 of *demo* <@&1>", status="critical", fields=(Field("_x_", "1"),)
    )
    await make_sender(session, hooks, WebhookFormat.DISCORD).post("12", message)

    [embed] = receiver.received[0].json()["embeds"]
    assert embed["title"] == "Job #7 of \\*demo\\* \\<@&1\\> — critical"
    assert embed["fields"] == [{"name": "\\_x\\_", "value": "1", "inline": True}]


async def test_discord_keeps_the_thread_of_the_webhook_url(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    hooks["12"] = f"{receiver.discord_url}?thread_id=555"
    sender = make_sender(session, hooks, WebhookFormat.DISCORD)
    ref = await sender.post("12", ALERT)
    await sender.update(ref, ALERT)

    posted, patched = receiver.received
    assert posted.query == {"thread_id": "555", "wait": "true"}
    assert patched.query == {"thread_id": "555"}


async def test_discord_update_patches_the_message_it_posted(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    sender = make_sender(session, hooks, WebhookFormat.DISCORD)
    ref = await sender.post("12", ALERT)
    resolved = Message(title="Job #7 of demo succeeded on retry", status="ok", tone=Tone.SUCCESS)
    assert await sender.update(ref, resolved) == ref

    patched = receiver.received[1]
    assert patched.method == "PATCH"
    assert patched.path == f"{receiver.received[0].path}/messages/{ref.message_id}"
    assert patched.json()["embeds"][0]["title"] == "Job #7 of demo succeeded on retry — ok"
    assert receiver.discord_messages[ref.message_id] == patched.json()


async def test_discord_update_of_a_deleted_message_is_permanent(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    sender = make_sender(session, hooks, WebhookFormat.DISCORD)
    with pytest.raises(DeliveryError) as raised:
        await sender.update(MessageRef("12", "999"), ALERT)
    assert raised.value.permanent and "404" in raised.value.detail
    assert "10008" in raised.value.detail


async def test_teams_gets_an_adaptive_card_that_speaks_and_only_opens_links(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    chart = Image("https://bot.example.org/chart.png", "Archive sizes over the last week")
    message = Message(
        title=ALERT.title,
        status=ALERT.status,
        tone=ALERT.tone,
        fields=ALERT.fields,
        sections=ALERT.sections,
        images=(chart,),
        actions=ALERT.actions,
        summary=ALERT.summary,
        footer="exportbot",
    )
    sender = make_sender(session, hooks, WebhookFormat.TEAMS)
    ref = await sender.post("13", message)

    assert ref == MessageRef("13", "") and not sender.edits
    [received] = receiver.received
    assert received.query["sig"] == SECRETS[2]
    body = received.json()
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["$schema"].startswith("http://adaptivecards.io/schemas/")
    assert card["speak"] == ALERT.summary
    title, state = card["body"][:2]
    assert title["text"] == ALERT.title and title["weight"] == "Bolder"
    assert state["text"] == ALERT.status and state["color"] == "Attention"
    [facts] = [b for b in card["body"] if b["type"] == "FactSet"]
    assert facts["facts"] == [{"title": f.label, "value": f.value} for f in PLAIN]
    [image] = [b for b in card["body"] if b["type"] == "Image"]
    assert image["altText"] == chart.alt_text
    assert {a["type"] for a in card["actions"]} == {"Action.OpenUrl"}
    assert {a["url"] for a in card["actions"]} == LINKS
    raw = received.body.decode()
    assert "Action.Execute" not in raw and "Action.Submit" not in raw
    assert_no_bot_buttons(body)


async def test_teams_card_shows_job_output_as_written_not_as_markdown_or_tags(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    output = "**bold** [click](https://evil.example) <at>Everyone</at> 1 < 2"
    message = Message(
        title="Job *7*",
        status="_failed_",
        fields=(Field("Output", output),),
        sections=(output,),
        footer="<b>exportbot</b>",
    )
    await make_sender(session, hooks, WebhookFormat.TEAMS).post("13", message)

    card = receiver.received[0].json()["attachments"][0]["content"]
    shown = "\\*\\*bold\\*\\* \\[click\\](https://evil.example) \\<at\\>Everyone\\</at\\> 1 \\< 2"
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    # The output is longer than a fact's value may be: its label, then a wrapped TextBlock.
    expected = ["Job \\*7\\*", "\\_failed\\_", "Output", shown, shown]
    assert texts == [*expected, "\\<b\\>exportbot\\</b\\>"]


async def test_teams_card_draws_a_long_fact_where_it_wraps(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    """Like the bot's own cards (issue 13, item 5): Teams mobile cuts a fact's value unwrapped."""
    sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    message = Message(
        title="Job #7", fields=(Field("Target", "demo"), Field("SHA-256", sha), Field("Files", "3"))
    )
    await make_sender(session, hooks, WebhookFormat.TEAMS).post("13", message)

    card = receiver.received[0].json()["attachments"][0]["content"]
    fact_values = [f["value"] for b in card["body"] if b["type"] == "FactSet" for f in b["facts"]]
    assert fact_values == ["demo", "3"]
    [shown] = [b for b in card["body"] if b.get("text") == sha]
    assert shown["wrap"] is True
    texts = [b.get("text") for b in card["body"]]
    assert texts.index("SHA-256") + 1 == texts.index(sha)  # its label, then the value


async def test_json_is_signed_over_timestamp_and_body_with_the_delivery_key(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    sender = make_sender(session, hooks, WebhookFormat.JSON)
    ref = await sender.post("14", ALERT, key="delivery-42")

    assert ref == MessageRef("14", "")
    [received] = receiver.received
    headers = received.headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Exportbot-Delivery"] == "delivery-42"
    timestamp = headers["X-Exportbot-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    signed = timestamp.encode() + b"." + received.body

    def signature(secret: bytes) -> str:
        return "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()

    assert hmac.compare_digest(headers["X-Exportbot-Signature"], signature(SECRET))
    assert not hmac.compare_digest(headers["X-Exportbot-Signature"], signature(b"other"))
    document = received.json()
    assert document["version"] == 1 and document["delivery"] == "delivery-42"
    assert (document["title"], document["status"]) == (ALERT.title, ALERT.status)
    assert (document["tone"], document["job"]) == ("danger", 7)
    assert document["summary"] == ALERT.summary and document["text"] == ALERT.text
    assert document["fields"] == [{"label": f.label, "value": f.value} for f in PLAIN]
    assert {link["url"] for link in document["links"]} == LINKS
    assert document["sections"] == list(ALERT.sections)
    assert_no_bot_buttons(document)


async def test_json_without_a_secret_is_refused_and_nothing_is_sent(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    sender = make_sender(session, hooks, WebhookFormat.JSON, secret=b"")
    with pytest.raises(DeliveryError) as raised:
        await sender.post("14", ALERT, key="k")
    assert raised.value.permanent and "EXPORTBOT_WEBHOOK_SECRET" in raised.value.detail
    assert receiver.received == []


@pytest.mark.parametrize("fmt", list(WebhookFormat))
async def test_a_removed_webhook_is_a_permanent_failure(
    fmt: WebhookFormat,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    del hooks[IDS[fmt]]
    with pytest.raises(DeliveryError) as raised:
        await make_sender(session, hooks, fmt).post(IDS[fmt], ALERT)
    assert raised.value.permanent and "removed" in raised.value.detail
    assert receiver.received == []


# -- destinations: checked again when connecting (A5, SSRF) ---------------------------------


def renamed(url: str, host: str) -> str:
    """The stand-in's URL under another host name (same port and path)."""
    return url.replace("127.0.0.1", host, 1)


async def test_a_name_that_resolves_to_loopback_is_refused_at_connect_time(
    receiver: WebhookStandIn, hooks: dict[str, str]
) -> None:
    dns = StaticResolver({"hooks.example.com": ["127.0.0.1"]})
    hooks["14"] = renamed(receiver.json_url, "hooks.example.com")
    async with guarded_session(allow_private=False, resolver=dns) as guarded:
        with pytest.raises(DeliveryError) as raised:
            await make_sender(guarded, hooks, WebhookFormat.JSON).post("14", ALERT, key="k")
    assert dns.asked == ["hooks.example.com"]  # it was resolved, then refused
    assert raised.value.permanent and "loopback" in raised.value.detail
    assert JSON_TOKEN not in raised.value.detail  # the URL stays a secret
    assert receiver.received == []


async def test_only_the_addresses_a_webhook_may_reach_are_kept_from_a_resolution() -> None:
    # A name answering a public address and a loopback one: aiohttp only ever sees the first
    # (resolved here, not connected to: tests send traffic to loopback only).
    dns = StaticResolver({"hooks.example.com": ["8.8.8.8", "127.0.0.1", "::1", "fd00::1"]})
    resolver = GuardedResolver(allow_private=False, inner=dns)
    kept = await resolver.resolve("hooks.example.com", 443)
    assert [r["host"] for r in kept] == ["8.8.8.8"]
    allowing = GuardedResolver(allow_private=True, inner=dns)
    assert len(await allowing.resolve("hooks.example.com", 443)) == 4


async def test_the_same_name_is_delivered_when_private_destinations_are_allowed(
    receiver: WebhookStandIn, hooks: dict[str, str]
) -> None:
    dns = StaticResolver({"hooks.example.com": ["127.0.0.1"]})
    hooks["14"] = renamed(receiver.json_url, "hooks.example.com")
    async with guarded_session(allow_private=True, resolver=dns) as guarded:
        await make_sender(guarded, hooks, WebhookFormat.JSON).post("14", ALERT, key="k")
    assert len(receiver.received) == 1


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "169.254.169.254"]
)
async def test_a_stored_url_on_a_refused_address_is_not_contacted(
    host: str, receiver: WebhookStandIn, hooks: dict[str, str]
) -> None:
    # Written before the rules existed, or by hand: literal addresses skip any resolver.
    hooks["14"] = renamed(receiver.json_url, host)
    async with guarded_session(allow_private=False) as guarded:
        with pytest.raises(DeliveryError) as raised:
            await make_sender(guarded, hooks, WebhookFormat.JSON).post("14", ALERT, key="k")
    assert raised.value.permanent and "refused" in raised.value.detail
    assert receiver.received == []


async def test_metadata_stays_refused_even_when_private_destinations_are_allowed(
    receiver: WebhookStandIn, hooks: dict[str, str]
) -> None:
    dns = StaticResolver({"hooks.example.com": ["169.254.169.254"]})
    hooks["14"] = renamed(receiver.json_url, "hooks.example.com")
    async with guarded_session(allow_private=True, resolver=dns) as guarded:
        with pytest.raises(DeliveryError) as raised:
            await make_sender(guarded, hooks, WebhookFormat.JSON).post("14", ALERT, key="k")
    assert raised.value.permanent and "metadata" in raised.value.detail
    assert receiver.received == []


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_a_redirect_is_not_followed_and_fails_the_delivery(
    code: int, receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    elsewhere = f"{receiver.base_url}/hooks/elsewhere"
    receiver.fail(Failure(code, headers={"Location": elsewhere}))
    with pytest.raises(DeliveryError) as raised:
        await make_sender(session, hooks, WebhookFormat.JSON).post("14", ALERT, key="k")
    assert raised.value.permanent and str(code) in raised.value.detail
    assert [r.path for r in receiver.received] == [f"/hooks/{JSON_TOKEN}"]


# -- answers → wait, retry or give up ------------------------------------------------------

S, D, T, J = WebhookFormat.SLACK, WebhookFormat.DISCORD, WebhookFormat.TEAMS, WebhookFormat.JSON


@pytest.mark.parametrize(
    ("fmt", "failure", "seconds"),
    [
        (S, rate_limited("7"), 7.0),
        (D, rate_limited("3", retry_after=2.5), 2.5),  # Discord's precise JSON value wins
        (D, rate_limited("3"), 3.0),
        (T, rate_limited("12"), 12.0),
        (T, rate_limited(), 1.0),  # no header: one second
        (J, rate_limited("4"), 4.0),
        # A receiver is a stranger: waits it asks for are finite and at most an hour.
        (J, rate_limited("inf"), 1.0),
        (J, rate_limited("nan"), 1.0),
        (J, rate_limited("1e308"), 3600.0),
        (J, rate_limited("-5"), 0.0),
        (D, rate_limited("3", retry_after=1e308), 3600.0),
    ],
)
async def test_429_asks_to_wait_as_long_as_the_receiver_said(
    fmt: WebhookFormat,
    failure: Failure,
    seconds: float,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    receiver.fail(failure)
    with pytest.raises(RetryAfter) as raised:
        await make_sender(session, hooks, fmt).post(IDS[fmt], ALERT, key="k")
    assert raised.value.seconds == seconds and not raised.value.permanent


@pytest.mark.parametrize(
    ("fmt", "failure", "permanent", "code"),
    [
        (S, status(404, "no_service"), True, "no_service"),
        (S, status(404, "channel_not_found"), True, "channel_not_found"),
        (S, status(410, "channel_is_archived"), True, "channel_is_archived"),
        (S, status(403, "action_prohibited"), True, "action_prohibited"),
        (S, status(400, "invalid_payload"), True, "invalid_payload"),
        (S, status(500), False, ""),
        (D, status(401, {"message": "401: Unauthorized", "code": 0}), True, "(0)"),
        (D, status(403, {"message": "Missing Access", "code": 50001}), True, "50001"),
        (D, status(404, {"message": "Unknown Webhook", "code": 10015}), True, "10015"),
        (D, status(500), False, ""),
        (D, status(502), False, ""),
        (T, status(412), False, ""),
        (T, status(502), False, ""),
        (T, status(504), False, ""),
        (T, status(500), False, ""),
        (T, status(400, {"error": {"code": "TriggerInputSchemaMismatch"}}), True, "Trigger"),
        (T, status(401), True, ""),
        (T, status(403), True, ""),
        (T, status(404), True, ""),
        (J, status(410), True, ""),
        (J, status(400), True, ""),
        (J, status(412), True, ""),  # 412 is worth a retry only on Teams
        (J, status(500), False, ""),
        (J, status(503), False, ""),
    ],
)
async def test_each_answer_is_either_worth_a_retry_or_permanent(
    fmt: WebhookFormat,
    failure: Failure,
    permanent: bool,
    code: str,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    receiver.fail(failure)
    with pytest.raises(DeliveryError) as raised:
        await make_sender(session, hooks, fmt).post(IDS[fmt], ALERT, key="k")
    error = raised.value
    assert not isinstance(error, RetryAfter)
    assert error.permanent is permanent
    assert str(failure.status) in error.detail and code in error.detail


@pytest.mark.parametrize("fmt", list(WebhookFormat))
async def test_a_receiver_that_hangs_past_the_timeout_is_worth_a_retry(
    fmt: WebhookFormat,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    receiver.fail(HANG)
    sender = make_sender(session, hooks, fmt, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(DeliveryError) as raised:
        await sender.post(IDS[fmt], ALERT)
    assert time.monotonic() - started < 3
    assert not raised.value.permanent and "timed out" in raised.value.detail


@pytest.mark.parametrize("fmt", [WebhookFormat.SLACK, WebhookFormat.JSON])
async def test_an_answer_that_never_ends_is_read_only_as_far_as_needed(
    fmt: WebhookFormat,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    """A receiver is a stranger: reading its whole answer let one that streams forever turn
    every delivery into a timeout (maybe sent, so retried: duplicates) and fill memory."""
    receiver.fail(Failure(status=200, endless=True))
    await make_sender(session, hooks, fmt, timeout=2.0).post(IDS[fmt], ALERT, key="k")
    assert len(receiver.received) == 1


@pytest.mark.parametrize("fmt", list(WebhookFormat))
async def test_a_dropped_connection_is_worth_a_retry(
    fmt: WebhookFormat,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    receiver.fail(DROP)
    with pytest.raises(DeliveryError) as raised:
        await make_sender(session, hooks, fmt).post(IDS[fmt], ALERT)
    assert not raised.value.permanent and "unreachable" in raised.value.detail
    assert len(receiver.received) == 1


async def test_a_redirect_is_not_followed(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    receiver.fail(Failure(302, headers={"Location": "http://127.0.0.1:9/elsewhere"}))
    with pytest.raises(DeliveryError) as raised:
        await make_sender(session, hooks, WebhookFormat.JSON).post("14", ALERT)
    assert raised.value.permanent and "302" in raised.value.detail
    assert len(receiver.received) == 1


# -- the URL is a secret -------------------------------------------------------------------


def failure_text(error: BaseException) -> str:
    """What a log line with the traceback would show."""
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize("fmt", list(WebhookFormat))
@pytest.mark.parametrize(
    "failure",
    [HANG, DROP, rate_limited("2"), status(500), status(404, "url")],
    ids=["hang", "drop", "429", "500", "404-echoing-the-url"],
)
async def test_the_url_never_appears_in_an_error(
    fmt: WebhookFormat,
    failure: Failure,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    url = hooks[IDS[fmt]]
    if failure.body == b"url":  # a receiver that echoes the URL back must not leak it either
        failure = status(404, url)
    receiver.fail(failure)
    with pytest.raises(DeliveryError) as raised:
        await make_sender(session, hooks, fmt, timeout=0.3).post(IDS[fmt], ALERT)
    shown = failure_text(raised.value)
    assert not any(secret in shown for secret in SECRETS)
    assert url not in shown and shown_url(url) in raised.value.detail


async def test_an_unreachable_host_is_worth_a_retry_and_keeps_the_url_secret(
    session: aiohttp.ClientSession,
) -> None:
    # Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    url = f"http://127.0.0.1:9/hooks/{SECRETS[3]}"
    sender = make_sender(session, {"14": url}, WebhookFormat.JSON)
    with pytest.raises(DeliveryError) as raised:
        await sender.post("14", ALERT)
    assert not raised.value.permanent and "unreachable" in raised.value.detail
    assert SECRETS[3] not in failure_text(raised.value)


async def test_a_malformed_url_is_permanent_and_stays_secret(
    receiver: WebhookStandIn, session: aiohttp.ClientSession
) -> None:
    # aiohttp's own error quotes the whole URL; none of it may reach the traceback.
    url = f"hooks.example.org/{SECRETS[3]}"
    sender = make_sender(session, {"14": url}, WebhookFormat.JSON)
    with pytest.raises(DeliveryError) as raised:
        await sender.post("14", ALERT)
    assert raised.value.permanent and "valid URL" in raised.value.detail
    assert SECRETS[3] not in failure_text(raised.value)


# -- what a webhook cannot do --------------------------------------------------------------


@pytest.mark.parametrize("fmt", list(WebhookFormat))
async def test_a_webhook_cannot_reply_message_privately_upload_or_look_up(
    fmt: WebhookFormat,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    sender = make_sender(session, hooks, fmt)
    ref = MessageRef(IDS[fmt], "1")
    refusals = [
        sender.reply(ref, ALERT),
        sender.private("U1", ALERT, key="k"),
        sender.upload(IDS[fmt], Upload("log.txt", b"log", "Log")),
    ]
    for refusal in refusals:
        with pytest.raises(DeliveryError) as raised:
            await refusal
        assert raised.value.permanent
    assert await sender.recall(IDS[fmt], "k", NOW) is None
    assert await sender.recall_private("U1", "k", NOW) is None
    assert receiver.received == []


@pytest.mark.parametrize("fmt", [S, T, J])
async def test_only_discord_webhooks_can_edit(
    fmt: WebhookFormat,
    receiver: WebhookStandIn,
    session: aiohttp.ClientSession,
    hooks: dict[str, str],
) -> None:
    sender = make_sender(session, hooks, fmt)
    assert not sender.edits
    with pytest.raises(DeliveryError) as raised:
        await sender.update(MessageRef(IDS[fmt], "1"), ALERT)
    assert raised.value.permanent and receiver.received == []


async def test_there_is_one_sender_per_webhook_destination(
    receiver: WebhookStandIn, session: aiohttp.ClientSession, hooks: dict[str, str]
) -> None:
    async def resolve(webhook_id: str) -> str | None:
        return hooks.get(webhook_id)

    senders = webhook_senders(session, resolve, SECRET, WEBHOOK_RENDERERS)
    assert set(senders) == {"webhook:slack", "webhook:discord", "webhook:teams", "webhook:json"}
    assert [name for name, s in senders.items() if s.edits] == ["webhook:discord"]
    for fmt in WebhookFormat:
        await senders[SenderKey("webhook", fmt.value)].post(IDS[fmt], ALERT, key="k")
    assert [r.path.split("/")[1] for r in receiver.received] == [
        "services",
        "api",
        "workflows",
        "hooks",
    ]


def test_a_bot_button_alone_is_not_drawn_anywhere() -> None:
    retry = Action("Retry", "job.retry", "7", 1, ALERT.actions[0].capability)
    message = Message(title="t", status="s", actions=(retry,), fields=(Field("a", "b"),))
    for fmt in WebhookFormat:
        assert "job.retry" not in json.dumps(payload(fmt, message, "k"))
