"""`Message` → the body of a Discord channel webhook (A5): one embed.

A webhook cannot receive a click, so the message's actions (buttons that need a bot) are left
out; fields whose value is a link are written as links in the description. Embeds have no alt
text, so the status in words goes in the title (F1). The embed keeps to the limits and the
markdown escaping of the chat renderer (`render.py`).
"""

from __future__ import annotations

from adapters.discord.render import (
    COLORS,
    MAX_DESCRIPTION,
    MAX_EMBED_TEXT,
    MAX_FIELD_NAME,
    MAX_FIELD_VALUE,
    MAX_FIELDS,
    MAX_FOOTER,
    MAX_TITLE,
    Json,
    cut_markdown,
    escape,
    fit,
    markdown_link,
)
from core.safety.text import cut
from core.views.message import Message


def discord_payload(message: Message) -> Json:
    """One embed; `allowed_mentions` empty so no text in an alert can ping anyone."""
    return {"content": "", "embeds": [discord_embed(message)], "allowed_mentions": {"parse": []}}


def discord_embed(message: Message) -> Json:
    """The alert as an embed: title and status, facts as fields, links in the description."""
    plain, links = message.facts, message.links
    embed: Json = {
        # Embeds have no alt text: the status in words goes in the title.
        "title": fit(message.headline, MAX_TITLE),
        "color": COLORS[message.tone],
    }
    lines = [escape(s) for s in message.sections]
    lines.extend(markdown_link(f.label, f.value) for f in links)
    lines.extend(markdown_link(i.alt_text, i.url) for i in message.images)
    if lines:
        embed["description"] = "\n\n".join(lines)
    if plain:
        embed["fields"] = [
            {
                "name": fit(f.label, MAX_FIELD_NAME) or "—",
                "value": fit(f.value, MAX_FIELD_VALUE) or "—",
                "inline": True,
            }
            for f in plain[:MAX_FIELDS]
        ]
    if message.images:
        embed["image"] = {"url": message.images[0].url}
    if message.footer:
        embed["footer"] = {"text": cut(message.footer, MAX_FOOTER)}
    return _fit_embed(embed)


def _fit_embed(embed: Json) -> Json:
    """Discord refuses an embed over 6,000 characters: the description gives way first."""
    others = len(embed["title"]) + len(embed.get("footer", {}).get("text", ""))
    others += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    room = min(MAX_DESCRIPTION, MAX_EMBED_TEXT - others)
    if "description" in embed and len(embed["description"]) > room:
        embed["description"] = cut_markdown(embed["description"], max(room, 1))
    return embed
