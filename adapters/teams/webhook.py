"""`Message` → the body of a Teams Workflows webhook (A5): an Adaptive Card in a message.

A webhook cannot receive a click, so the message's actions (buttons that need a bot) are left
out; fields whose value is a link become `Action.OpenUrl`. The status is in words in a
TextBlock and the card's `speak` carries the summary (F1, F2). Text is escaped and facts are
laid out as in the chat cards (`cards.py`); the card is 1.4, what a Workflows "post card" step
renders, so it has its own colour names and no Universal Actions.
"""

from __future__ import annotations

from adapters.teams.cards import CARD_CONTENT_TYPE, MAX_TEXT, SCHEMA, Card, escape, fact_blocks
from core.views.message import Message, Tone

VERSION = "1.4"

COLORS = {
    Tone.SUCCESS: "Good",
    Tone.WARNING: "Warning",
    Tone.DANGER: "Attention",
    Tone.INFO: "Accent",
    Tone.NEUTRAL: "Default",
}


def teams_payload(message: Message) -> Card:
    """The message envelope a Workflows "post card" step reads its card from."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": CARD_CONTENT_TYPE,
                "contentUrl": None,
                "content": adaptive_card(message),
            }
        ],
    }


def adaptive_card(message: Message) -> Card:
    """Adaptive Card 1.4 (what Teams renders); links as `Action.OpenUrl`, nothing to submit.
    Text goes through the Teams cards' `escape`: job output is shown as written, not read as
    markdown or tags."""
    plain, links = message.facts, message.links
    body: list[Card] = [
        {"type": "TextBlock", "text": escape(message.title), "size": "Medium", "weight": "Bolder"}
    ]
    if message.status:
        body.append(
            {
                "type": "TextBlock",
                "text": escape(message.status),
                "weight": "Bolder",
                "color": COLORS[message.tone],
                "spacing": "None",
            }
        )
    body.extend(fact_blocks(plain, MAX_TEXT))  # long values wrap
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
    card: Card = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "speak": message.summary or message.headline,
        "body": body,
    }
    if links:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": f.label, "url": f.value} for f in links
        ]
    return card
