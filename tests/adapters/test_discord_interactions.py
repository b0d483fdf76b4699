"""Discord interactions over HTTP (A3, G1): signed requests only, PING answered, `/export`
run from typed options, quick answers in the response, job messages redrawn when they end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.discord import adapter as adapter_module
from core.domain.model import Actor, Principal
from tests.adapters.discord_harness import ALICE_ID, DiscordHarness, discord_harness
from tests.adapters.discord_standin import (
    CHANNEL_ID,
    EPHEMERAL,
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
    slash_command,
    user_object,
)

QUICK = {"name": "quick", "kind": "command", "command": ["true"]}


@pytest.fixture
async def standin() -> AsyncIterator[DiscordStandIn]:
    async with discord_standin() as running:
        yield running


@pytest.fixture
async def discord(tmp_path: Path, standin: DiscordStandIn) -> AsyncIterator[DiscordHarness]:
    async with discord_harness(tmp_path, standin, targets=[QUICK]) as harness:
        yield harness


async def test_a_ping_is_answered_with_a_pong(discord: DiscordHarness) -> None:
    assert await discord.send(ping()) == (200, {"type": 1})


async def test_help_is_answered_in_the_response_to_the_asker_only(discord: DiscordHarness) -> None:
    status, answer = await discord.send(slash_command("help"))
    assert status == 200 and answer["type"] == 4
    embed = answer["data"]["embeds"][0]
    assert "run" in str(embed)


async def test_a_run_goes_from_command_to_its_redrawn_message_and_thread(
    discord: DiscordHarness, standin: DiscordStandIn
) -> None:
    status, answer = await discord.send(slash_command("run", {"target": "quick"}))
    assert status == 200 and answer["type"] == 4
    assert not answer["data"].get("flags", 0) & EPHEMERAL
    await discord.settle()
    [(channel, message_id)] = discord.rows(
        "SELECT channel, message_id FROM posted_messages WHERE kind = 'job'"
    )
    assert channel == CHANNEL_ID
    message = standin.messages[message_id]
    assert "succeeded" in message["embeds"][0]["title"]
    [told] = standin.bodies("POST /channels/{channel_id}/messages")
    assert "succeeded" in str(told)
    assert message_id in standin.threads  # the outcome went in the job message's thread


async def test_autocomplete_offers_the_targets_the_person_may_see(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    targets = [QUICK, {**QUICK, "name": "site-a"}, {**QUICK, "name": "site-b"}]
    async with discord_harness(tmp_path, standin, targets=targets) as discord:
        status, answer = await discord.send(autocomplete("run", {"target": "SITE"}, "target"))
        assert status == 200 and answer["type"] == 8
        assert answer["data"]["choices"] == [
            {"name": "site-a", "value": "site-a"},
            {"name": "site-b", "value": "site-b"},
        ]
        # Bob has no role here: nothing to offer, and nothing said about what exists.
        _, nothing = await discord.send(autocomplete("run", {"target": ""}, "target", user="bob"))
        assert nothing["data"]["choices"] == []


async def test_a_guild_that_is_not_configured_is_refused_and_a_dm_speaks_without_rights(
    discord: DiscordHarness,
) -> None:
    stranger = slash_command("run", {"target": "quick"})
    stranger["guild_id"] = "999999999999999999"
    _, refused = await discord.send(stranger)
    assert refused["data"]["flags"] & EPHEMERAL
    assert "does not serve the workspace 999999999999999999" in str(refused["data"])
    _, dm = await discord.send(slash_command("run", {"target": "quick"}, dm=True))
    assert dm["data"]["flags"] & EPHEMERAL
    assert "“run” capability" in str(dm["data"])  # served, but the DM principal has no role
    assert discord.rows("SELECT count(*) FROM jobs") == [(0,)]
    await discord.settle()
    assert discord.rows("SELECT actor FROM audit_log ORDER BY id") == [
        ("discord:999999999999999999:1300000000000000011",),
        (f"discord:{ALICE_ID}",),  # a DM: the guild-less principal
    ]


async def test_a_slow_answer_is_deferred_then_follows_through_the_webhook(
    discord: DiscordHarness, standin: DiscordStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adapter_module, "ANSWER_WITHIN", 0.0)  # every answer is "slow"
    interaction = slash_command("status", {"job-or-target": "quick"})
    _, answer = await discord.send(interaction)
    assert answer == {"type": 5}
    await discord.settle()
    [edit] = standin.bodies("PATCH /webhooks/{application_id}/{token}/messages/{message_id}")
    assert "quick" in edit["embeds"][0]["title"]
    assert standin.originals[interaction["token"]]["embeds"] == edit["embeds"]


async def test_reject_asks_for_a_reason_in_a_modal_then_updates_the_review_for_everyone(
    discord: DiscordHarness, standin: DiscordStandIn
) -> None:
    draft = {"target": "quick", "cron": "0 2 * * *", "tz": "UTC"}
    await discord.send(slash_command("schedule draft", draft))
    submitted = slash_command("schedule submit", {"draft": 1})
    await discord.send(submitted)
    review = standin.originals[submitted["token"]]
    buttons = [b for row in review["components"] for b in row["components"]]
    customs = [b["custom_id"] for b in buttons if "url" not in b]  # F3: and a link button
    assert "draft.reject:1:1" in customs
    assert any("/drafts/1/review?" in b.get("url", "") for b in buttons)

    _, opened = await discord.send(component("draft.changes:1:1", review, user="carol"))
    assert opened["type"] == 9
    [label] = opened["data"]["components"]
    assert label["label"] == "Commentaire" and label["component"]["required"] is True
    _, empty = await discord.send(
        modal_submit(opened["data"]["custom_id"], {"comment": " "}, user="carol", message=review)
    )
    assert empty["data"]["flags"] & EPHEMERAL and "obligatoire" in empty["data"]["content"]
    assert discord.rows("SELECT state FROM drafts") == [("submitted",)]

    reason = {"comment": "keep 7 archives, not 5"}
    _, decided = await discord.send(
        modal_submit(opened["data"]["custom_id"], reason, user="carol", message=review)
    )
    assert decided["type"] == 7  # the review message everyone sees is redrawn
    assert "keep 7 archives, not 5" in str(standin.messages[review["id"]]["embeds"])
    assert discord.rows("SELECT state FROM drafts") == [("changes_requested",)]


async def test_new_draft_from_the_drafts_list_opens_the_draft_modal(
    discord: DiscordHarness, standin: DiscordStandIn
) -> None:
    listed = slash_command("schedule drafts")
    await discord.send(listed)
    message = standin.originals[listed["token"]]
    _, opened = await discord.send(component("draft.new::0", message))
    assert opened["type"] == 9
    labels = [c["label"] for c in opened["data"]["components"]]
    assert labels[:3] == ["Target", "Schedule (cron)", "Time zone"]
    values = {
        "target": ["quick"],
        "cron": "0 3 * * *",
        "timezone": "UTC",
        "keep": "",
        "exclude": "",
    }
    _, saved = await discord.send(modal_submit(opened["data"]["custom_id"], values))
    assert saved["type"] == 4 and "Schedule draft #1" in saved["data"]["embeds"][0]["title"]
    assert discord.rows("SELECT target, cron FROM drafts") == [("quick", "0 3 * * *")]


async def test_the_note_menu_on_a_message_that_is_not_about_a_job_says_so(
    discord: DiscordHarness,
) -> None:
    stray = channel_message("lunch?", author=user_object("bob"))
    _, answer = await discord.send(message_command(stray))
    assert answer["type"] == 4 and answer["data"]["flags"] & EPHEMERAL
    assert "not about an export job" in answer["data"]["content"]


async def test_the_note_menu_in_a_jobs_thread_prefills_saves_and_echoes_in_the_thread(
    discord: DiscordHarness, standin: DiscordStandIn
) -> None:
    # Moved from the scenarios' Discord driver, which now notes from a thread through the
    # gateway (tests/adapters/test_discord_gateway.py), as Slack and Teams do.
    for _ in range(2):
        await discord.send(slash_command("run", {"target": "quick"}))
        await discord.settle()
    [(thread,)] = discord.rows(
        "SELECT message_id FROM posted_messages WHERE kind = 'job' AND job_id = 1"
    )
    said = channel_message(
        "relaunched after host maintenance", author=user_object("carol"), channel_id=thread
    )
    menu = message_command(said, user="carol")
    menu["channel_id"] = thread
    menu["channel"].update(id=thread, type=11, parent_id=CHANNEL_ID)  # a public thread
    _, modal = await discord.send(menu)
    assert modal["type"] == 9, modal
    labels = modal["data"]["components"]
    [note] = [c["component"] for c in labels if c["component"]["custom_id"] == "text"]
    assert note["value"] == "relaunched after host maintenance"  # prefilled with what was said
    submit = modal_submit(
        modal["data"]["custom_id"], {"text": note["value"], "kind": ["note"]}, user="carol"
    )
    submit["channel_id"] = thread
    _, saved = await discord.send(submit)
    assert saved["type"] == 4 and saved["data"]["flags"] & EPHEMERAL
    await discord.settle()
    [(job, author, text, link)] = discord.rows("SELECT job_id, author, text, link FROM annotations")
    assert (job, author, text) == (
        1,
        f"discord:{GUILD_ID}:{PEOPLE['carol'][0]}",
        "relaunched after host maintenance",
    )
    assert link == f"https://discord.com/channels/{GUILD_ID}/{thread}/{said['id']}"
    echoes = [
        r.json
        for r in standin.requests_to("POST /channels/{channel_id}/messages")
        if r.params["channel_id"] == thread and r.status == 200 and "relaunched" in str(r.json)
    ]
    assert len(echoes) == 1 and "Carol" in str(echoes[0])


async def test_retry_posts_the_new_job_as_its_own_message_and_the_requester_hears_privately(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    broken = {"name": "broken", "kind": "command", "command": ["sh", "-c", "exit 3"]}
    async with discord_harness(tmp_path, standin, targets=[broken]) as discord:
        await discord.send(slash_command("run", {"target": "broken"}))
        await discord.settle()
        [(first,)] = discord.rows("SELECT message_id FROM posted_messages WHERE kind = 'job'")
        card = standin.messages[first]
        assert "failed" in card["embeds"][0]["title"]
        _, retried = await discord.send(component("job.retry:1:0", card))
        assert retried["type"] == 4 and "Job #2" in retried["data"]["embeds"][0]["title"]
        await discord.settle()
        assert len(discord.rows("SELECT 1 FROM posted_messages WHERE kind = 'job'")) == 2
        # C3: a DM channel opened with Alice, who started the jobs, with each ending in it.
        [dm] = standin.bodies("POST /users/@me/channels")
        assert dm == {"recipient_id": ALICE_ID}
        await discord.eventually(
            "SELECT count(*) FROM deliveries WHERE private = 1 AND state = 'sent'", [(2,)]
        )


async def test_the_requester_hears_privately_in_their_language_even_after_a_restart(
    tmp_path: Path, standin: DiscordStandIn
) -> None:
    broken = {"name": "broken", "kind": "command", "command": ["sh", "-c", "exit 3"]}
    async with discord_harness(tmp_path, standin, targets=[broken]) as discord:
        await discord.send(slash_command("status", locale="fr"))
        await discord.settle()
    async with discord_harness(tmp_path, standin, targets=[broken]) as discord:
        assert await discord.discord.locale_of(GUILD_ID, ALICE_ID) == "fr"
        job = await discord.bot.service.execute_text(  # a job Alice started elsewhere
            "run broken", Actor(Principal("discord", GUILD_ID, ALICE_ID), "Alice", "en")
        )
        assert job.job_id == 1
        await discord.settle()
        await discord.eventually(
            "SELECT count(*) FROM deliveries WHERE private = 1 AND state = 'sent'", [(1,)]
        )
    [dm_channel] = standin.dm_channels.values()
    [told] = [
        r.json
        for r in standin.requests_to("POST /channels/{channel_id}/messages")
        if r.params["channel_id"] == dm_channel["id"]
    ]
    assert "échoué" in told["embeds"][0]["title"]


async def test_a_lone_surrogate_option_is_answered_and_audited_alongside_others(
    discord: DiscordHarness,
) -> None:
    answers = await asyncio.gather(
        discord.send(slash_command("status", user="carol")),
        discord.send(slash_command("status", {"job-or-target": "\udc80"})),  # JSON's "\udc80"
        discord.send(slash_command("help", user="carol")),
    )
    assert all(status == 200 and answer["type"] == 4 for status, answer in answers)
    assert "\ufffd" in str(answers[1][1]["data"])  # named back, as a replacement character
    await discord.settle()
    rows = discord.rows("SELECT actor, action, detail FROM audit_log ORDER BY id")
    # The odd one is refused in words (no such name), and audited like the others.
    assert sorted(action for _, action, _ in rows) == ["help", "invalid", "status"]
    [odd] = [detail for _, _, detail in rows if "\ufffd" in detail]
    assert odd.startswith("status \ufffd")


def _started_by(answer: dict[str, object]) -> str:
    [embed] = answer["data"]["embeds"]  # type: ignore[index]
    [field] = [f for f in embed["fields"] if f["name"] == "Started by"]
    return str(field["value"])


async def test_a_job_names_the_guild_channel_it_was_started_in_never_its_id(
    discord: DiscordHarness,
) -> None:
    # Discord sends the channel (a partial object, with its name) with each interaction.
    _, answer = await discord.send(slash_command("run", {"target": "quick"}))
    await discord.settle()
    assert _started_by(answer) == "Alice Admin on Discord, in #ops"
    assert CHANNEL_ID not in str(answer)


async def test_a_saved_note_is_confirmed_with_the_authors_name_shown_as_typed(
    discord: DiscordHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Found by the text-safety property (tests/adapters/test_text_safety.py): the private
    # confirmation went out as raw content, so a display name's markup and mentions showed
    # as formatting and mention pills.
    user_id, _, locale = PEOPLE["alice"]
    monkeypatch.setitem(PEOPLE, "alice", (user_id, "*Al* <@&1> @everyone", locale))
    await discord.send(slash_command("run", {"target": "quick"}))
    await discord.settle()
    _, saved = await discord.send(modal_submit("note:1", {"text": "checked"}))
    assert saved["type"] == 4 and saved["data"]["flags"] & EPHEMERAL
    assert saved["data"]["content"] == "\\*Al\\* \\<@&1\\> @everyone's note is saved on job #1."
    assert saved["data"]["allowed_mentions"] == {"parse": []}


async def test_admin_verbs_answer_under_export_admin_and_hints_name_that_command(
    discord: DiscordHarness,
) -> None:
    # /export holds too few characters for every verb: the admin ones are /export-admin's.
    role_list = slash_command("role list")
    assert role_list["data"]["name"] == "export-admin"
    status, answer = await discord.send(role_list)
    assert status == 200 and answer["type"] == 4
    [roles] = answer["data"]["embeds"]
    assert roles["title"] == "Roles" and "— admin (all targets)" in roles["description"]

    _, overview = await discord.send(slash_command("help"))
    listed = str(overview["data"]["embeds"][0])
    assert "/export-admin role grant" in listed and "/export run" in listed
    assert "/export role" not in listed and "/export-admin run" not in listed

    _, topic = await discord.send(slash_command("help", {"topic": "role"}))
    shown = str(topic["data"]["embeds"][0])
    assert "/export-admin role grant" in shown and "/export role" not in shown
