"""MkDocs hook: the configuration page's reference is rendered from the settings model at
every build (`bot/config_reference.py`), so it cannot drift from `bot/config.py`."""

from __future__ import annotations

from typing import Any

from mkdocs.exceptions import PluginError

from bot.config_reference import render

MARKER = "<!-- settings-reference -->"
PAGE = "configuration.md"


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    """Put the rendered reference where the configuration page has its marker."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"docs/{PAGE} lost its {MARKER} line: the reference has nowhere to go")
    return markdown.replace(MARKER, render())
