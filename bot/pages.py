"""The web pages (F3): a job, a target's history, a draft's review, behind signed links (G4).

Server-rendered with Jinja2 templates (`bot/templates/`, package data) with autoescape on;
every text shown goes through `core.safety.text.visible` first (the environment's `finalize`),
so no control or bidi character reorders or hides what follows. The one stylesheet and the
two scripts are files served from `bot/static/` with `'self'` in CONTENT_SECURITY_POLICY, which
bot/app.py sends with every response: no inline script or style, nothing from elsewhere.

What a page says is built in the core (core/views/pages.py); this module loads it and lays it
out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup

from core.domain.model import TargetSpec
from core.domain.schedules import DraftState, prune_candidates
from core.i18n import Translator
from core.ports import UnitOfWorkFactory
from core.safety.links import PageLinks, history_path, job_path
from core.safety.text import visible
from core.views.message import Message
from core.views.pages import (
    HISTORY_PAGE_JOBS,
    Nav,
    Page,
    history_page,
    job_page,
    review_page,
)

# Nothing loads but our own files: no inline script or style, no frame, no form, no base.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)

STATIC_TYPES = {
    "pages.css": "text/css",
    "pages.js": "text/javascript",
    "theme.js": "text/javascript",
}


def _shown(value: object) -> object:
    """Every text a template shows: made visible, then escaped as the pages always were
    (`html.escape`, quotes included); what a template marked safe is its own markup."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(escape(visible(value)))
    return value


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("bot", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    finalize=_shown,
    trim_blocks=True,
    lstrip_blocks=True,
)


def static_file(name: str) -> tuple[bytes, str] | None:
    """One of the pages' own files and its type; None for any other name."""
    kind = STATIC_TYPES.get(name)
    if kind is None:
        return None
    return resources.files("bot").joinpath("static", name).read_bytes(), kind


def _render(template: str, t: Translator, **values: Any) -> str:
    return _ENV.get_template(template).render(locale=t.locale, t=t.t, **values)


def render_page(t: Translator, page: Page, target: str, **values: Any) -> str:
    return _render(f"{page.kind}.html", t, page=page, target=target, **values)


def page(message: Message, locale: str) -> str:
    """A job's message as its page, without the links to other pages (the layout of
    `job_html`, for a message that is not read from the database)."""
    t = Translator(locale)
    built = Page(
        kind="job",
        title=message.title,
        status=message.status,
        tone=message.tone,
        summary=message.summary,
        nav=Nav("", ""),
        fields=message.fields,
        sections=message.sections,
    )
    return render_page(t, built, "")


def document(t: Translator, name: str) -> str:
    """A page of plain paragraphs from the catalog (`page.<name>.title`, `.body`)."""
    title = t.t(f"page.{name}.title")
    return _render(
        "message.html", t, heading=title, paragraphs=t.t(f"page.{name}.body").split("\n\n")
    )


def refusal(t: Translator, key: str, **params: object) -> str:
    return _render("message.html", t, heading=t.t(key, **params), paragraphs=[])


# -- loading what a page shows --------------------------------------------------------------


@dataclass(frozen=True)
class PageSource:
    """What the page routes read: the database, the targets, the link signer and the time."""

    uow_factory: UnitOfWorkFactory
    targets: Mapping[str, TargetSpec]
    links: PageLinks  # with an empty base: the pages link one another by path


async def _nav(source: PageSource, uow: Any, target: str, locale: str, now: datetime) -> Nav:
    latest = next(iter(await uow.jobs.recent(targets=[target], limit=1)), None)
    return Nav(
        history=source.links.url(history_path(target), locale, now),
        latest_job=source.links.url(job_path(latest.id), locale, now) if latest else "",
    )


async def job_html(source: PageSource, job_id: int, t: Translator, now: datetime) -> str | None:
    async with source.uow_factory(read_only=True) as uow:
        job = await uow.jobs.get(job_id)
        if job is None:
            return None
        annotations = await uow.annotations.for_job(job_id)
        nav = await _nav(source, uow, job.target, t.locale, now)
    return render_page(t, job_page(t, job, annotations, now, nav), job.target)


async def history_html(source: PageSource, target: str, t: Translator, now: datetime) -> str | None:
    if target not in source.targets:
        return None
    async with source.uow_factory(read_only=True) as uow:
        jobs = await uow.jobs.recent(targets=[target], limit=HISTORY_PAGE_JOBS + 1)
        nav = await _nav(source, uow, target, t.locale, now)

    def job_url(job_id: int) -> str:
        return source.links.url(job_path(job_id), t.locale, now)

    return render_page(t, history_page(t, target, jobs, now, nav, job_url), target)


async def review_html(
    source: PageSource, draft_id: int, t: Translator, now: datetime
) -> str | None:
    async with source.uow_factory(read_only=True) as uow:
        draft = await uow.drafts.get(draft_id)
        if draft is None or draft.target not in source.targets:
            return None
        active = await uow.schedules.active(draft.target)
        doomed = []
        if draft.state is not DraftState.APPROVED:
            kept = list(await uow.archives.kept(draft.target))
            doomed = prune_candidates(kept, draft.spec.retention, now)
        nav = await _nav(source, uow, draft.target, t.locale, now)
    quorum = source.targets[draft.target].approvals_required
    built = review_page(t, draft, active, doomed, quorum, now, nav)
    return render_page(t, built, draft.target, draft=draft.id)
