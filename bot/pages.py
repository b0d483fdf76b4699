"""The job page that alert links open (`GET /jobs/{id}`, signed, G4): plain, readable HTML.

Status in words in the heading and in a polite live region; a definition list for the
fields; high-contrast colours; no script. (The full F3 page, with keyboard shortcuts and a
help dialog, builds on this.)

Every text is shown through `core.safety.text.visible` (no control or bidi character reorders or
hides what follows) and HTML-escaped; the one stylesheet is allowed by its hash in
`CONTENT_SECURITY_POLICY`, which bot/app.py sends with every response.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from core.i18n import Translator
from core.safety.text import visible
from core.views.message import Message

_STYLE = (
    "body{font:1rem/1.5 system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem;"
    "color:#111;background:#fff}dt{font-weight:700}dd{margin:0 0 .5rem 0;overflow-wrap:anywhere}"
    "p.section{white-space:pre-wrap}"
    "@media (prefers-color-scheme:dark){body{color:#f5f5f5;background:#111}}"
)
_STYLE_SOURCE = (
    "'sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode() + "'"
)
# Nothing loads but the stylesheet above: no script, no frame, no form, no base rewrite.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_STYLE_SOURCE}; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)


def _shown(text: str) -> str:
    return escape(visible(text))


def page(message: Message, locale: str) -> str:
    fields = "".join(
        f"<dt>{_shown(f.label)}</dt><dd>{_shown(f.value)}</dd>" for f in message.fields
    )
    sections = "".join(f'<p class="section">{_shown(s)}</p>' for s in message.sections)
    head = f"{message.title} — {message.status}" if message.status else message.title
    return (
        f'<!doctype html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_shown(head)}</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{_shown(head)}</h1>"
        f'<p role="status" aria-live="polite">{_shown(message.summary)}</p>'
        f"<dl>{fields}</dl>{sections}</main></body></html>"
    )


def document(t: Translator, name: str) -> str:
    """A page of plain paragraphs from the catalog (`page.<name>.title`, `.body`)."""
    title = t.t(f"page.{name}.title")
    paragraphs = "".join(f"<p>{_shown(p)}</p>" for p in t.t(f"page.{name}.body").split("\n\n"))
    return (
        f'<!doctype html><html lang="{t.locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_shown(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{_shown(title)}</h1>{paragraphs}</main></body></html>"
    )


def refusal(t: Translator, key: str, **params: object) -> str:
    text = t.t(key, **params)
    return (
        f'<!doctype html><html lang="{t.locale}"><head><meta charset="utf-8">'
        f"<title>{_shown(text)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{_shown(text)}</h1></main></body></html>"
    )
