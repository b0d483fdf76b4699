"""`Message` → the body a webhook takes: our own JSON document here, the platforms' bodies
(Slack Block Kit, a Discord embed, a Teams Adaptive Card) from their own packages
(`adapters/slack/webhook.py`, `adapters/discord/webhook.py`, `adapters/teams/webhook.py`),
handed in by the composition root (`bot/bootstrap.py`) as `Renderers`, so no adapter imports
another.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from core.delivery.webhooks import WebhookFormat
from core.views.message import Message

Json = dict[str, Any]
# A platform's webhook body; the JSON format is ours and needs none.
Renderer = Callable[[Message], Json]
Renderers = Mapping[WebhookFormat, Renderer]

JSON_VERSION = 1


def payload(fmt: WebhookFormat, message: Message, key: str = "", *, renderers: Renderers) -> Json:
    """The body to send to a webhook of format `fmt`; `key` is the delivery's idempotency key
    (only our JSON document carries it)."""
    if fmt is WebhookFormat.JSON:
        return json_document(message, key)
    return renderers[fmt](message)


def encode(body: Json) -> bytes:
    """The exact bytes sent (and signed, for the JSON format)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


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
