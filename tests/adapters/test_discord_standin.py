"""The Discord stand-in, driven by discord.py itself: if discord.py is happy with its answers,
adapter tests against it mean something."""

from __future__ import annotations

import asyncio
import io
import json
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import aiohttp
import pytest
from nacl.signing import SigningKey

from adapters.discord.render import modal_response, render
from adapters.discord.verify import InteractionVerifier
from core.commands.forms import draft_form, note_form
from core.domain.capabilities import Capability
from core.domain.events import EventKind, OutboxEvent
from core.domain.subscriptions import AlertKind, Severity
from core.i18n import Translator
from core.views.alerts import AlertSettings, alert_message
from core.views.message import Action, Field, Message
from tests.adapters.discord_standin import (
    ANNOTATE_COMMAND,
    APP_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    GUILD_ID,
    PEOPLE,
    DiscordStandIn,
    autocomplete,
    channel_message,
    component,
    discord_standin,
    message_command,
    modal_submit,
    ping,
    signed_interaction,
    slash_command,
)
from tests.examples import failed_job

with warnings.catch_warnings():
    # discord.py imports the stdlib's `audioop` for voice, deprecated since 3.11; no voice here.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord
    from discord.http import HTTPClient, Route, handle_message_parameters

POST_MESSAGE = "POST /channels/{channel_id}/messages"
EDIT_MESSAGE = "PATCH /channels/{channel_id}/messages/{message_id}"
START_THREAD = "POST /channels/{channel_id}/messages/{message_id}/threads"
OPEN_DM = "POST /users/@me/channels"
FOLLOW_UP = "POST /webhooks/{application_id}/{token}"
EDIT_HOOKED = "PATCH /webhooks/{application_id}/{token}/messages/{message_id}"
CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"
AUTH = {"Authorization": f"Bot {BOT_TOKEN}"}
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
EN = Translator("en")
SETTINGS = AlertSettings("https://bot.example.org", b"k", runbooks={"failed": "https://wiki/f"})


@pytest.fixture
async def discord_api() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running, _pointed_at(running):
        yield running


@pytest.fixture
async def http(discord_api: DiscordStandIn) -> AsyncIterator[HTTPClient]:
    client = HTTPClient(asyncio.get_running_loop())
    await client.static_login(BOT_TOKEN)  # opens its session and calls GET /users/@me
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@asynccontextmanager
async def _pointed_at(standin: DiscordStandIn) -> AsyncIterator[None]:
    """`Route.BASE` is a class attribute every discord.py request (webhooks too) is built on."""
    saved = Route.BASE
    Route.BASE = standin.api_base
    try:
        yield
    finally:
        Route.BASE = saved


# -- the wire ------------------------------------------------------------------------------


async def test_answers_carry_exactly_application_json_and_a_via_header(
    discord_api: DiscordStandIn, session: aiohttp.ClientSession
) -> None:
    base = discord_api.api_base
    async with session.get(f"{base}/users/@me", headers=AUTH) as ok:
        assert (ok.status, ok.headers["Content-Type"]) == (200, "application/json")
        assert (await ok.json())["id"] == BOT_USER_ID
        assert ok.headers["Via"] and ok.headers["X-RateLimit-Bucket"]
    async with session.get(f"{base}/users/@me") as refused:
        assert (refused.status, refused.headers["Content-Type"]) == (401, "application/json")
    async with session.get(f"{base}/nowhere", headers=AUTH) as missing:
        assert (missing.status, missing.headers["Content-Type"]) == (404, "application/json")
    assert [r.status for r in discord_api.requests] == [200, 401, 404]


async def test_login_sends_the_bot_token_and_a_wrong_one_fails(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    [login] = discord_api.requests_to("GET /users/@me")
    assert login.headers["Authorization"] == f"Bot {BOT_TOKEN}"
    assert login.headers["User-Agent"].startswith("DiscordBot")
    other = HTTPClient(asyncio.get_running_loop())
    try:
        with pytest.raises(discord.LoginFailure):
            await other.static_login("not-the-token")
    finally:
        await other.close()


# -- channel messages, threads, DMs, files -------------------------------------------------


async def test_a_channel_message_with_an_embed_is_sent_edited_and_threaded(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    embed = discord.Embed(title="Job #7 · demo — failed", description="disk full", color=0xE01E5A)
    embed.add_field(name="Target", value="demo")
    sent = await http.send_message(CHANNEL_ID, params=handle_message_parameters(embed=embed))
    assert sent["channel_id"] == CHANNEL_ID and sent["author"]["bot"] is True
    assert discord.utils.snowflake_time(int(sent["id"])).year >= 2025  # a real-looking id
    [body] = discord_api.bodies(POST_MESSAGE)
    assert body["embeds"][0]["title"] == "Job #7 · demo — failed"
    assert body["embeds"][0]["fields"] == [{"name": "Target", "value": "demo", "inline": True}]

    edited = await http.edit_message(
        CHANNEL_ID, sent["id"], params=handle_message_parameters(content="now retried")
    )
    assert edited["id"] == sent["id"] and edited["edited_timestamp"]
    assert edited["content"] == "now retried" and edited["embeds"] == sent["embeds"]

    thread = await http.start_thread_with_message(
        CHANNEL_ID, sent["id"], name="Job #7", auto_archive_duration=1440
    )
    assert (thread["id"], thread["type"], thread["parent_id"]) == (sent["id"], 11, CHANNEL_ID)
    reply = await http.send_message(
        thread["id"], params=handle_message_parameters(content="It failed: disk full.")
    )
    assert reply["channel_id"] == thread["id"]
    assert discord_api.threads[str(thread["id"])]["message_count"] == 1
    with pytest.raises(discord.HTTPException) as again:
        await http.start_thread_with_message(
            CHANNEL_ID, sent["id"], name="twice", auto_archive_duration=60
        )
    assert (again.value.status, again.value.code) == (400, 160004)
    assert [r.route for r in discord_api.requests[1:]] == [
        POST_MESSAGE,
        EDIT_MESSAGE,
        START_THREAD,
        POST_MESSAGE,
        START_THREAD,
    ]


async def test_a_dm_channel_is_opened_once_per_person(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    alice = PEOPLE["alice"][0]
    dm = await http.start_private_message(alice)
    assert dm["type"] == 1 and dm["recipients"][0]["id"] == alice
    assert (await http.start_private_message(alice))["id"] == dm["id"]
    await http.send_message(dm["id"], params=handle_message_parameters(content="Job #7 failed."))
    assert discord_api.bodies(OPEN_DM) == [{"recipient_id": alice}] * 2
    assert discord_api.requests_to(POST_MESSAGE)[0].params["channel_id"] == dm["id"]


async def test_a_file_is_uploaded_with_its_alt_text(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    chart = discord.File(
        io.BytesIO(b"\x89PNG fake"), filename="sizes.png", description="Archive sizes, rising"
    )
    params = handle_message_parameters(content="Sizes", file=chart)
    with params:  # discord.py closes the files on exit
        sent = await http.send_message(CHANNEL_ID, params=params)
    [received] = discord_api.requests_to(POST_MESSAGE)
    assert received.headers["Content-Type"].startswith("multipart/form-data")
    [upload] = received.files()
    assert (upload.name, upload.filename, upload.data) == ("files[0]", "sizes.png", b"\x89PNG fake")
    assert received.json["attachments"] == [
        {"id": 0, "filename": "sizes.png", "description": "Archive sizes, rising"}
    ]
    [attachment] = sent["attachments"]
    assert attachment["description"] == "Archive sizes, rising"
    assert (attachment["content_type"], attachment["size"]) == ("image/png", 9)


async def test_a_raw_payload_goes_through_the_http_client_unchanged(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    # What an adapter does with a rendered dict: no discord.Embed round trip.
    payload = {
        "embeds": [{"title": "Job #7 · demo — failed"}],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 3, "label": "Retry", "custom_id": "job.retry:7:0"}
                ],
            }
        ],
        "allowed_mentions": {"parse": []},
    }
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=CHANNEL_ID)
    sent = await http.request(route, json=payload)
    assert discord_api.bodies(POST_MESSAGE) == [payload]
    assert sent["components"] == payload["components"]


async def test_payloads_over_discords_limits_are_refused_like_discord_does(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=CHANNEL_ID)
    too_long = {"embeds": [{"title": "t" * 257}]}
    with pytest.raises(discord.HTTPException) as refused:
        await http.request(route, json=too_long)
    assert (refused.value.status, refused.value.code) == (400, 50035)
    assert "embeds.0.title" in refused.value.text
    with pytest.raises(discord.HTTPException) as empty:
        await http.request(route, json={"content": ""})
    assert empty.value.code == 50006
    duplicated = {
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 2, "label": "A", "custom_id": "x"}] * 2}
        ]
    }
    with pytest.raises(discord.HTTPException):
        await http.request(route, json=duplicated)


# -- interactions: follow-ups, callbacks, commands -----------------------------------------


async def test_a_follow_up_goes_through_webhook_partial_and_is_edited(
    discord_api: DiscordStandIn, session: aiohttp.ClientSession
) -> None:
    token = slash_command("run", {"target": "demo"})["token"]
    hook = discord.Webhook.partial(int(APP_ID), token, session=session)
    sent = await hook.send("Job #8 started.", embed=discord.Embed(title="Job #8 · demo"), wait=True)
    assert isinstance(sent, discord.WebhookMessage) and sent.content == "Job #8 started."
    await sent.edit(content="Job #8 succeeded.")
    [posted] = discord_api.requests_to(FOLLOW_UP)
    assert posted.params == {"application_id": APP_ID, "token": token}
    assert posted.query["wait"] == "1"  # discord.py asks for the created message back
    assert "Authorization" not in posted.headers  # the token in the path is the credential
    assert posted.json["embeds"][0]["title"] == "Job #8 · demo"
    [edit] = discord_api.requests_to(EDIT_HOOKED)
    assert edit.params["message_id"] == str(sent.id)
    assert edit.json["content"] == "Job #8 succeeded."
    # A partial webhook is of the "incoming" type: discord.py refuses ephemeral on it.
    with pytest.raises(ValueError, match="application webhooks"):
        await hook.send("only you", ephemeral=True)


async def test_an_ephemeral_follow_up_with_buttons_goes_through_the_http_client(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    # What Webhook.partial cannot send (ephemeral, buttons with a custom_id), a raw request can.
    token = component("job.retry:7:0")["token"]
    route = Route(
        "POST", "/webhooks/{webhook_id}/{webhook_token}", webhook_id=APP_ID, webhook_token=token
    )
    button = {"type": 2, "style": 2, "label": "Add note", "custom_id": "job.note:8:0"}
    payload = {
        "content": "Retried as job #8.",
        "flags": 64,
        "components": [{"type": 1, "components": [button]}],
    }
    sent = await http.request(route, json=payload)
    assert sent["flags"] == 64 and sent["components"][0]["components"] == [button]
    assert discord_api.bodies(FOLLOW_UP) == [payload]


async def test_callbacks_and_the_original_response_answer_as_discord_does(
    discord_api: DiscordStandIn, session: aiohttp.ClientSession
) -> None:
    interaction = component("job.retry:7:0")
    callback = f"{discord_api.api_base}/interactions/{interaction['id']}/{interaction['token']}"
    deferred = {"type": 5, "data": {"flags": 64}}
    async with session.post(f"{callback}/callback", json=deferred) as answer:
        assert answer.status == 204
    async with session.post(f"{callback}/callback?with_response=true", json=deferred) as answer:
        body = await answer.json()
        assert body["interaction"]["response_message_loading"] is True
        assert body["interaction"]["response_message_ephemeral"] is True
    original = f"{discord_api.api_base}/webhooks/{APP_ID}/{interaction['token']}/messages/@original"
    async with session.patch(original, json={"content": "Retried as job #8."}) as edited:
        assert edited.headers["Content-Type"] == "application/json"
        assert (await edited.json())["content"] == "Retried as job #8."
    bad_modal = {"type": 9, "data": {"custom_id": "note:7", "title": "x" * 46, "components": []}}
    async with session.post(f"{callback}/callback", json=bad_modal) as refused:
        errors = (await refused.json())["errors"]["data"]
        assert refused.status == 400 and {"title", "components"} <= errors.keys()
    assert all(r.route in {CALLBACK, EDIT_HOOKED} for r in discord_api.requests)


async def test_commands_are_overwritten_in_bulk_globally_and_per_guild(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    commands = [
        {"name": "export", "type": 1, "description": "Export jobs", "options": []},
        {"name": ANNOTATE_COMMAND, "type": 3},
    ]
    made = await http.bulk_upsert_global_commands(APP_ID, commands)
    assert [(c["name"], c["application_id"]) for c in made] == [
        ("export", APP_ID),
        (ANNOTATE_COMMAND, APP_ID),
    ]
    in_guild = await http.bulk_upsert_guild_commands(APP_ID, GUILD_ID, commands[:1])
    assert dict(in_guild[0])["guild_id"] == GUILD_ID
    assert discord_api.bodies("PUT /applications/{application_id}/commands") == [commands]


# -- rate limits and failures --------------------------------------------------------------


async def test_discord_py_waits_retry_after_on_a_429_then_succeeds(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    discord_api.rate_limit_next(POST_MESSAGE, retry_after=0.05)
    started = time.monotonic()
    await http.send_message(CHANNEL_ID, params=handle_message_parameters(content="hello"))
    assert time.monotonic() - started >= 0.05
    assert [r.status for r in discord_api.requests_to(POST_MESSAGE)] == [429, 200]


async def test_a_429_names_the_bucket_and_retry_after_as_discord_does(
    discord_api: DiscordStandIn, session: aiohttp.ClientSession
) -> None:
    discord_api.rate_limit_next(POST_MESSAGE, retry_after=0.3)
    url = f"{discord_api.api_base}/channels/{CHANNEL_ID}/messages"
    async with session.post(url, json={"content": "x"}, headers=AUTH) as limited:
        assert limited.status == 429
        assert await limited.json() == {
            "message": "You are being rate limited.",
            "retry_after": 0.3,
            "global": False,
        }
        headers = limited.headers
    assert headers["Retry-After"] == "1" and headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset-After"] == "0.300"
    assert float(headers["X-RateLimit-Reset"]) > time.time()
    assert headers["X-RateLimit-Scope"] == "user" and headers["X-RateLimit-Bucket"]


async def test_a_route_limit_is_announced_in_headers_and_discord_py_waits_before_a_429(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    discord_api.limit_route(POST_MESSAGE, 2, 0.2)
    started = time.monotonic()
    for n in range(3):
        await http.send_message(CHANNEL_ID, params=handle_message_parameters(content=f"{n}"))
    assert time.monotonic() - started >= 0.15  # it slept once the bucket was empty
    assert [r.status for r in discord_api.requests_to(POST_MESSAGE)] == [200, 200, 200]


async def test_the_global_limit_answers_a_global_429_and_spares_interactions(
    session: aiohttp.ClientSession,
) -> None:
    async with discord_standin(global_limit=3, global_window=0.5) as api:
        url = f"{api.api_base}/users/@me"
        statuses = []
        for _ in range(4):
            async with session.get(url, headers=AUTH) as answer:
                statuses.append(answer.status)
                last, body = answer.headers, await answer.json()
        assert statuses == [200, 200, 200, 429]
        assert body["global"] is True and 0 < body["retry_after"] <= 0.5
        assert last["X-RateLimit-Global"] == "true" and last["X-RateLimit-Scope"] == "global"
        follow_up = f"{api.api_base}/webhooks/{APP_ID}/tok"
        async with session.post(follow_up, json={"content": "still fine"}) as answer:
            assert answer.status == 200


async def test_discord_py_rides_out_the_global_limit() -> None:
    async with discord_standin(global_limit=3, global_window=0.3) as api, _pointed_at(api):
        client = HTTPClient(asyncio.get_running_loop())
        try:
            await client.static_login(BOT_TOKEN)
            sends = [
                client.send_message(CHANNEL_ID, params=handle_message_parameters(content=str(n)))
                for n in range(4)
            ]
            await asyncio.gather(*sends)
        finally:
            await client.close()
        statuses = [r.status for r in api.requests]
        assert statuses.count(200) == 5 and 429 in statuses


async def test_a_failure_on_demand_reaches_discord_py(
    discord_api: DiscordStandIn, http: HTTPClient
) -> None:
    discord_api.fail_next(POST_MESSAGE, status=503)
    with pytest.raises(discord.DiscordServerError):
        await http.send_message(CHANNEL_ID, params=handle_message_parameters(content="x"))
    await http.send_message(CHANNEL_ID, params=handle_message_parameters(content="x"))
    assert [r.status for r in discord_api.requests_to(POST_MESSAGE)] == [503, 200]


# -- signed interaction builders -----------------------------------------------------------


def test_signed_interactions_verify_with_the_public_key() -> None:
    key = SigningKey.generate()
    body, headers = signed_interaction(key, ping())
    verifier = InteractionVerifier(key.verify_key.encode().hex())
    assert verifier.verify_headers(headers, body)
    assert json.loads(body)["type"] == 1
    assert headers["Content-Type"] == "application/json"
    assert not verifier.verify_headers(headers, body + b" ")


def test_a_slash_command_in_a_guild_and_in_a_dm() -> None:
    guild = slash_command("schedule draft", {"target": "demo", "keep": 5, "dry": True})
    assert guild["type"] == 2 and guild["guild_id"] == GUILD_ID
    assert guild["member"]["user"]["global_name"] == "Alice Admin" and "user" not in guild
    assert guild["data"]["name"] == "export" and guild["data"]["type"] == 1
    [group] = guild["data"]["options"]
    assert (group["type"], group["name"]) == (2, "schedule")
    [sub] = group["options"]
    assert (sub["type"], sub["name"]) == (1, "draft")
    assert [(o["type"], o["name"], o["value"]) for o in sub["options"]] == [
        (3, "target", "demo"),
        (4, "keep", 5),
        (5, "dry", True),
    ]
    dm = slash_command("status", user="carol", dm=True)
    assert "guild_id" not in dm and "member" not in dm and dm["user"]["id"] == PEOPLE["carol"][0]
    assert dm["locale"] == "fr" and dm["channel"]["type"] == 1 and dm["context"] == 1
    assert dm["data"]["options"] == [{"type": 1, "name": "status"}]
    assert dm["token"] != guild["token"] and dm["id"] != guild["id"]


def test_a_message_command_a_press_an_autocomplete_and_a_modal_submit() -> None:
    target = channel_message("deploy went wrong", author={"id": "42", "username": "eve"})
    menu = message_command(target)
    assert menu["data"]["type"] == 3 and menu["data"]["target_id"] == target["id"]
    assert menu["data"]["resolved"]["messages"][target["id"]]["content"] == "deploy went wrong"

    press = component("draft.approve:3:2", user="bob")
    assert press["type"] == 3 and press["data"] == {
        "custom_id": "draft.approve:3:2",
        "component_type": 2,
    }
    assert press["message"]["author"]["id"] == BOT_USER_ID
    assert press["member"]["user"]["username"] == "bob"

    typing = autocomplete("run", {"target": "de"}, focused="target")
    [option] = typing["data"]["options"][0]["options"]
    assert typing["type"] == 4 and option == {
        "type": 3,
        "name": "target",
        "value": "de",
        "focused": True,
    }

    submitted = modal_submit("note:7", {"text": "**disk** full", "kind": ["anomaly"]})
    assert submitted["type"] == 5 and submitted["data"]["custom_id"] == "note:7"
    text, kind = submitted["data"]["components"]
    assert (text["type"], text["component"]["value"]) == (18, "**disk** full")
    assert (kind["component"]["type"], kind["component"]["values"]) == (3, ["anomaly"])
    legacy = modal_submit("note:7", {"text": "x"}, layout="action_row", dm=True)
    assert legacy["data"]["components"][0]["components"][0]["custom_id"] == "text"
    assert "user" in legacy and "guild_id" not in legacy


# -- what the renderer draws, accepted as Discord would -----------------------------------


async def test_rendered_messages_and_modals_pass_the_stand_ins_checks(
    discord_api: DiscordStandIn, http: HTTPClient, session: aiohttp.ClientSession
) -> None:
    event = OutboxEvent(EventKind.JOB_ENDED, "demo", NOW, {"job": 7, "state": "failed"})
    alert = alert_message(
        EN, event, AlertKind.FAILED, Severity.CRITICAL, SETTINGS, NOW, failed_job(NOW)
    )
    huge = Message(
        title="T" * 400,
        status="failed",
        fields=tuple(Field(f"f{i}", "v" * 2000) for i in range(60)),
        sections=("s" * 9000,),
        actions=tuple(Action(f"B{i}", "job.retry", str(i), 0, Capability.RUN) for i in range(30)),
        footer="f" * 3000,
    )
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=CHANNEL_ID)
    for message in (alert, huge):
        await http.request(route, json=render(message))
    assert [r.status for r in discord_api.requests_to(POST_MESSAGE)] == [200, 200]

    interaction = component("job.note:7:0")
    callback = f"{discord_api.api_base}/interactions/{interaction['id']}/{interaction['token']}"
    for form in (note_form(EN, 7), draft_form(EN, ["demo"])):
        async with session.post(f"{callback}/callback", json=modal_response(form)) as answer:
            assert answer.status == 204, await answer.text()
