"""`Message` → the body each kind of webhook takes: Slack Block Kit, a Discord embed, a Teams
Adaptive Card, or our own JSON document.

A webhook cannot receive a click, so the message's actions (buttons that need a bot) are left
out; fields whose value is a link (the signed job page, the runbook) become link buttons or
links instead. The status is always there in words (F1): in Slack's `text` and blocks, in the
Discord embed's title (embeds have no alt text), in the card's TextBlock and `speak` (F2).

The Slack blocks are the chat renderer's (`adapters/slack/render.py`) with link buttons in
place of its action buttons; the Discord embed keeps to the limits and markdown escaping of
`adapters/discord/render.py`, with links written in its description; the Teams card's text
is escaped like the Teams chat cards (`adapters/teams/cards.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from adapters.discord import render as discord_render
from adapters.slack import render as slack
from adapters.teams import cards as teams_cards
from core.delivery.webhooks import WebhookFormat
from core.safety.text import cut
from core.views.message import Field, Message, Tone

Json = dict[str, Any]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
JSON_VERSION = 1

SLACK_MAX_FALLBACK = 40000
SLACK_MAX_ELEMENTS = 25
SLACK_MAX_URL = 3000

TEAMS_COLORS = {
    Tone.SUCCESS: "Good",
    Tone.WARNING: "Warning",
    Tone.DANGER: "Attention",
    Tone.INFO: "Accent",
    Tone.NEUTRAL: "Default",
}


def payload(fmt: WebhookFormat, message: Message, key: str = "") -> Json:
    """The body to send to a webhook of format `fmt`; `key` is the delivery's idempotency key."""
    if fmt is WebhookFormat.SLACK:
        return slack_payload(message)
    if fmt is WebhookFormat.DISCORD:
        return discord_payload(message)
    if fmt is WebhookFormat.TEAMS:
        return teams_payload(message)
    return json_document(message, key)


def encode(body: Json) -> bytes:
    """The exact bytes sent (and signed, for the JSON format)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def headline(message: Message) -> str:
    return f"{message.title} — {message.status}" if message.status else message.title


# -- Slack incoming webhook ----------------------------------------------------------------


def slack_payload(message: Message) -> Json:
    """Top-level `text` carries everything (screen readers and notifications read it)."""
    return {
        "text": slack.cut_mrkdwn(slack.fallback_text(message), SLACK_MAX_FALLBACK),
        "blocks": _cap_blocks(list(_slack_blocks(message))),
    }


def _slack_blocks(message: Message) -> Iterator[Json]:
    # What a chat message shows, but the links drawn as buttons (a webhook has no bot to
    # answer the others).
    yield from slack.content_blocks(message, message.facts)
    buttons = [_link_button(i, f, message) for i, f in enumerate(message.links)]
    for start in range(0, len(buttons), SLACK_MAX_ELEMENTS):
        yield {"type": "actions", "elements": buttons[start : start + SLACK_MAX_ELEMENTS]}
    yield from slack.footer_blocks(message)


def _link_button(index: int, link: Field, message: Message) -> Json:
    # A button with `url` just opens the page; no bot has to answer it.
    return {
        "type": "button",
        "action_id": f"link-{index}",
        "text": slack.plain(cut(link.label, slack.MAX_LABEL)),
        "url": link.value[:SLACK_MAX_URL],
        "accessibility_label": cut(f"{link.label}: {message.title}", slack.MAX_LABEL),
    }


def _cap_blocks(blocks: list[Json]) -> list[Json]:
    """At most 50 blocks: the links and the footer survive a cut."""
    if len(blocks) <= slack.MAX_BLOCKS:
        return blocks
    tail = [b for b in blocks[-2:] if b["type"] in ("actions", "context")]
    return blocks[: slack.MAX_BLOCKS - len(tail)] + tail


# -- Discord channel webhook ---------------------------------------------------------------


def discord_payload(message: Message) -> Json:
    """One embed; `allowed_mentions` empty so no text in an alert can ping anyone."""
    return {"content": "", "embeds": [discord_embed(message)], "allowed_mentions": {"parse": []}}


def discord_embed(message: Message) -> Json:
    plain, links = message.facts, message.links
    embed: Json = {
        # Embeds have no alt text: the status in words goes in the title.
        "title": discord_render.fit(headline(message), discord_render.MAX_TITLE),
        "color": discord_render.COLORS[message.tone],
    }
    lines = [discord_render.escape(s) for s in message.sections]
    lines.extend(discord_render.markdown_link(f.label, f.value) for f in links)
    lines.extend(discord_render.markdown_link(i.alt_text, i.url) for i in message.images)
    if lines:
        embed["description"] = "\n\n".join(lines)
    if plain:
        embed["fields"] = [
            {
                "name": discord_render.fit(f.label, discord_render.MAX_FIELD_NAME) or "—",
                "value": discord_render.fit(f.value, discord_render.MAX_FIELD_VALUE) or "—",
                "inline": True,
            }
            for f in plain[: discord_render.MAX_FIELDS]
        ]
    if message.images:
        embed["image"] = {"url": message.images[0].url}
    if message.footer:
        embed["footer"] = {"text": cut(message.footer, discord_render.MAX_FOOTER)}
    return _fit_embed(embed)


def _fit_embed(embed: Json) -> Json:
    """Discord refuses an embed over 6,000 characters: the description gives way first."""
    others = len(embed["title"]) + len(embed.get("footer", {}).get("text", ""))
    others += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    room = min(discord_render.MAX_DESCRIPTION, discord_render.MAX_EMBED_TEXT - others)
    if "description" in embed and len(embed["description"]) > room:
        embed["description"] = discord_render.cut_markdown(embed["description"], max(room, 1))
    return embed


# -- Teams Workflows webhook ---------------------------------------------------------------


def teams_payload(message: Message) -> Json:
    """The message envelope a Workflows "post card" step reads its card from."""
    return {
        "type": "message",
        "attachments": [
            {"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": adaptive_card(message)}
        ],
    }


def adaptive_card(message: Message) -> Json:
    """Adaptive Card 1.4 (what Teams renders); links as `Action.OpenUrl`, nothing to submit.
    Text goes through the Teams cards' `escape`: job output is shown as written, not read as
    markdown or tags."""
    escape = teams_cards.escape
    plain, links = message.facts, message.links
    body: list[Json] = [
        {"type": "TextBlock", "text": escape(message.title), "size": "Medium", "weight": "Bolder"}
    ]
    if message.status:
        body.append(
            {
                "type": "TextBlock",
                "text": escape(message.status),
                "weight": "Bolder",
                "color": TEAMS_COLORS[message.tone],
                "spacing": "None",
            }
        )
    body.extend(teams_cards.fact_blocks(plain, teams_cards.MAX_TEXT))  # long values wrap
    body.extend({"type": "TextBlock", "text": escape(section)} for section in message.sections)
    body.extend(
        {"type": "Image", "url": image.url, "altText": image.alt_text} for image in message.images
    )
    if message.footer:
        body.append(
            {"type": "TextBlock", "text": escape(message.footer), "size": "Small", "isSubtle": True}
        )
    for block in body:
        if block["type"] == "TextBlock":
            block["wrap"] = True
    card: Json = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "speak": message.summary or headline(message),
        "body": body,
    }
    if links:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": f.label, "url": f.value} for f in links
        ]
    return card


# -- generic JSON --------------------------------------------------------------------------


def json_document(message: Message, key: str) -> Json:
    """Our own format, stable under `version`; `delivery` lets a receiver drop repeats."""
    plain, links = message.facts, message.links
    return {
        "version": JSON_VERSION,
        "delivery": key,
        "title": message.title,
        "status": message.status,
        "tone": message.tone.value,
        "summary": message.summary,
        "text": message.text,
        "fields": [{"label": f.label, "value": f.value} for f in plain],
        "sections": list(message.sections),
        "links": [{"label": f.label, "url": f.value} for f in links],
        "images": [{"url": i.url, "alt_text": i.alt_text} for i in message.images],
        "footer": message.footer,
        "job": message.job_id,
    }
