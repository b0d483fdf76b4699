"""The job page that alert links open (`GET /jobs/{id}`, signed, G4): plain, readable HTML.

Status in words in the heading and in a polite live region; a definition list for the
fields; high-contrast colours; no script. (The full F3 page, with keyboard shortcuts and a
help dialog, builds on this.)
"""

from __future__ import annotations

from html import escape

from core.i18n import Translator
from core.messages import Message

_STYLE = (
    "body{font:1rem/1.5 system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem;"
    "color:#111;background:#fff}dt{font-weight:700}dd{margin:0 0 .5rem 0;overflow-wrap:anywhere}"
    "p.section{white-space:pre-wrap}"
    "@media (prefers-color-scheme:dark){body{color:#f5f5f5;background:#111}}"
)


def page(message: Message, locale: str) -> str:
    fields = "".join(
        f"<dt>{escape(f.label)}</dt><dd>{escape(f.value)}</dd>" for f in message.fields
    )
    sections = "".join(f'<p class="section">{escape(s)}</p>' for s in message.sections)
    head = f"{message.title} — {message.status}" if message.status else message.title
    return (
        f'<!doctype html><html lang="{escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(head)}</title><style>{_STYLE}</style></head><body><main>"
        f"<h1>{escape(head)}</h1>"
        f'<p role="status" aria-live="polite">{escape(message.summary)}</p>'
        f"<dl>{fields}</dl>{sections}</main></body></html>"
    )


def document(t: Translator, name: str) -> str:
    """A page of plain paragraphs from the catalog (`page.<name>.title`, `.body`)."""
    title = t.t(f"page.{name}.title")
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in t.t(f"page.{name}.body").split("\n\n"))
    return (
        f'<!doctype html><html lang="{t.locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{paragraphs}</main></body></html>"
    )


def refusal(t: Translator, key: str, **params: object) -> str:
    text = t.t(key, **params)
    return (
        f'<!doctype html><html lang="{t.locale}"><head><meta charset="utf-8">'
        f"<title>{escape(text)}</title><style>{_STYLE}</style></head>"
        f"<body><main><h1>{escape(text)}</h1></main></body></html>"
    )
