"""Any text a person or a job writes is shown literally and pings no one, on every renderer
(issue 13): Slack blocks and `text`, Teams cards and the Workflows card, Discord embeds and
content, the webhook formats, the console and the job page.

Text is generated (hypothesis) from ordinary words mixed with each platform's control syntax,
put into real domain objects (a job's target, requester, error output and notes; a draft's
author and review comments; alerts and digests) and turned into messages by the same core
functions the bot uses, then rendered by the adapters' own render functions. Each platform
has a small decoder below that models what a person sees: it says where the rendered text
would still be read as markup, a mention or a control sequence (a leak), and otherwise gives
back the shown text, which must hold what was written.
"""

from __future__ import annotations

import json
import re
import string
import unicodedata
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from html.parser import HTMLParser
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import render as console_render
from adapters.discord import render as discord_render
from adapters.slack import render as slack_render
from adapters.slack.modals import result_modal
from adapters.teams import cards
from adapters.webhooks.render import encode, payload
from bot import pages
from bot.bootstrap import WEBHOOK_RENDERERS
from core.delivery.webhooks import WebhookFormat
from core.domain.events import EventKind, OutboxEvent
from core.domain.model import (
    Annotation,
    AnnotationKind,
    Job,
    JobState,
    Origin,
    OriginKind,
    Principal,
)
from core.domain.schedules import Decision, Draft, DraftState, Schedule, ScheduleSpec, Verdict
from core.domain.subscriptions import AlertKind, Severity
from core.i18n import Translator
from core.views.alerts import AlertSettings, alert_message, digest_message
from core.views.jobs import job_line, job_message
from core.views.message import Field, Message, Tone, ending
from core.views.schedules import draft_message, schedule_message

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SETTINGS = AlertSettings("https://bot.example.org", b"link-secret")
# The webhook bodies as the bot draws them: each platform's renderer, our JSON document.
webhook_payload = partial(payload, renderers=WEBHOOK_RENDERERS)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- generated text ------------------------------------------------------------------------

# Each platform's markup, mentions and tags, HTML, and what a job's stderr may hold (colour
# codes, a title-setting OSC, a C1 CSI, a bidi override).
# fmt: off
FRAGMENTS = (
    # Slack's entities and HTML's, and escapes
    "<", ">", "&", "&amp;", "&lt;", "&#60;", "&nbsp;", "\\", "\\*",
    # markdown: emphasis, code, spoilers, headings, links, quotes, lists
    "*bold*", "**strong**", "_it_", "~strike~", "~~gone~~", "`code`", "```\nblock\n```",
    "||spoiler||", "# heading", "## h2", "-# small", "[x](https://evil.example)", "> quote",
    ">>> all", "- bullet", "+ item", "* star", "1. first", "2) second", ":smile:",
    "https://example.com/a_b*c ",
    # mentions: Slack, Discord, Teams
    "<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C1>", "<https://evil.example|click>",
    "@everyone", "@here", "<@123>", "<@!123>", "<@&1>", "<#1>", "</export:1>", "<t:0>",
    "<at>x</at>",
    # HTML
    "<b>bold</b>", "<script>alert(1)</script>", "<!-- c -->",
    # layout
    "\n", "\n\n", "\r\n", "\t", " ", "  ",
)
# fmt: on
CONTROLS = ("\x1b[31m", "\x1b]0;owned\x07", "\x9b2J", "\u202e", "\x08", "\r", "\x00")
_WORDS = st.text(
    st.characters(categories=("L", "N")) | st.sampled_from(" .,:;!?'\"()-/#=+"), max_size=6
)


def hostile(max_pieces: int = 8, *, controls: bool = False) -> st.SearchStrategy[str]:
    """Ordinary words mixed with markup; with `controls`, also what a job's output holds."""
    pieces = FRAGMENTS + CONTROLS if controls else FRAGMENTS
    piece = st.sampled_from(pieces) | _WORDS
    return st.lists(piece, min_size=1, max_size=max_pieces).map("".join)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """Any message: every text in it generated."""
    text = hostile()
    return Message(
        title=draw(hostile(4)),
        status=draw(st.just("") | hostile(2)),
        tone=draw(st.sampled_from(Tone)),
        fields=tuple(Field(draw(hostile(3)), draw(text)) for _ in range(draw(st.integers(0, 3)))),
        sections=tuple(draw(st.lists(text, max_size=3))),
        summary=draw(text),
        footer=draw(st.just("") | text),
    )


def _job(draw: st.DrawFn, target: str) -> Job:
    state = draw(st.sampled_from(JobState))
    channel = draw(st.just("") | hostile(2))
    return Job(
        id=7,
        target=target,
        state=state,
        origin=Origin(OriginKind.USER, "slack", "T1", channel),
        requester=Principal("slack", "T1", "U1"),
        requester_name=draw(hostile(3)),
        created_at=NOW,
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=5) if state.is_terminal else None,
        error=draw(st.none() | hostile(controls=True)),
    )


@st.composite
def domain_messages(draw: st.DrawFn) -> Message:
    """A message the core draws from domain objects holding generated text, through the
    functions the bot uses (job card, its ending, alert, digest, draft, schedule)."""
    t = Translator(draw(st.sampled_from(["en", "fr"])))
    target = draw(hostile(3))
    job = _job(draw, target)
    kind = draw(
        st.sampled_from(["job", "ending", "history", "alert", "digest", "draft", "schedule"])
    )
    if kind == "history":  # the lines of `status` and `history`
        return Message(title=t.t("history.title", scope=target), sections=(job_line(t, job),))
    if kind in ("job", "ending"):
        notes = [
            Annotation(
                i,
                job.id,
                draw(st.sampled_from(AnnotationKind)),
                draw(hostile(controls=True)),  # C1 and bidi characters pass the door's clean
                Principal("slack", "T1", f"U{i}"),
                draw(hostile(3)),
                NOW,
            )
            for i in range(draw(st.integers(0, 2)))
        ]
        card = job_message(t, job, notes, now=NOW)
        return ending(card) if kind == "ending" else card
    if kind in ("alert", "digest"):
        job = replace(job, state=JobState.FAILED, finished_at=NOW)
        event = OutboxEvent(EventKind.JOB_ENDED, target, NOW, {"job": 7, "state": "failed"})
        alert = alert_message(t, event, AlertKind.FAILED, Severity.CRITICAL, SETTINGS, NOW, job)
        return alert if kind == "alert" else digest_message(t, [alert, alert])
    spec = ScheduleSpec("0 3 * * *", "Europe/Paris", exclude=(draw(hostile(2)),))
    if kind == "schedule":
        active = Schedule(1, target, 2, spec, None, NOW, draw(hostile(3)))
        return schedule_message(t, target, active, NOW)
    decisions = [
        Decision(Principal("slack", "T1", "U9"), draw(hostile(3)), verdict, 1, NOW, draw(hostile()))
        for verdict in draw(st.lists(st.sampled_from(Verdict), max_size=2))
    ]
    draft = Draft(
        3, target, Principal("slack", "T1", "U1"), draw(hostile(3)), 1, spec,
        draw(st.sampled_from(DraftState)), NOW, NOW, NOW + timedelta(days=1), decisions,
    )  # fmt: skip
    return draft_message(t, draft, None, (), 1, NOW)


any_message = messages() | domain_messages()


def written(message: Message) -> list[str]:
    """Every text of the message a person should read, as the core wrote it."""
    parts = [message.title, message.status, message.footer, *message.sections]
    for field in message.facts:
        parts.extend((field.label, field.value))
    parts.extend(link.label for link in message.links)  # the URL is behind a button
    return [p for p in parts if p]


def lines(text: str) -> str:
    """Line breaks as one `\\n` each: how many blank lines a platform shows is its business."""
    return re.sub(r"\n+", "\n", text.replace("\r\n", "\n").replace("\r", "\n"))


def assert_shows(shown: str, message: Message, parts: list[str] | None = None) -> None:
    """Every written text of `message` (or `parts`) is somewhere in what is shown."""
    shown = lines(shown)
    for part in written(message) if parts is None else parts:
        part = lines(part)
        # A text longer than its place may be cut, with an ellipsis, never garbled.
        cut = any(part[:n] + "…" in shown for n in range(len(part) - 1, 40, -1))
        assert part in shown or cut, (part, shown)


# -- Slack ---------------------------------------------------------------------------------

# Slack mrkdwn (the blocks' mrkdwn objects and the top-level `text`): `<…>` is a link or a
# mention (`<!channel>`, `<@U1>`, `<#C1>`), and only `&amp;` `&lt;` `&gt;` are decoded; user
# text can only be shown literally by escaping `& < >`. Slack has no escape for `*_~`, so
# emphasis is not checked here. plain_text objects show their text as is.
_SLACK_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


def slack_seen(mrkdwn: str) -> str:
    """What Slack shows for a mrkdwn text; fails where Slack would read a link or mention."""
    assert "<" not in mrkdwn and ">" not in mrkdwn, f"live Slack syntax in {mrkdwn!r}"
    return re.sub("&(?:amp|lt|gt);", lambda m: _SLACK_ENTITIES[m[0]], mrkdwn)


def slack_texts(payload: Any) -> Iterator[str]:
    """The shown text of every text object in a Slack payload (blocks, modal, `text`)."""
    if isinstance(payload, dict):
        kind = payload.get("type")
        if kind == "mrkdwn":
            yield slack_seen(payload["text"])
        elif kind == "plain_text":
            yield payload["text"]
        for key, value in payload.items():
            if key == "text" and isinstance(value, str) and kind not in ("mrkdwn", "plain_text"):
                yield slack_seen(value)  # the top-level `text` is read as mrkdwn
            elif key in ("alt_text", "accessibility_label"):
                yield value
            else:
                yield from slack_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from slack_texts(item)


def assert_slack_safe(payload: dict[str, Any], message: Message) -> None:
    # `parse: full` or `link_names` would turn a typed `@here` or `#channel` into a live one.
    assert "parse" not in payload and "link_names" not in payload
    assert slack_seen(payload["text"]) == message.fallback  # a job's leads with its summary
    assert message.text in slack_seen(payload["text"])
    assert_shows("\n".join(slack_texts(payload)), message)


@PROPERTY
@given(any_message)
def test_slack_blocks_and_text_show_any_text_literally(message: Message) -> None:
    assert_slack_safe(slack_render.render(message), message)


@PROPERTY
@given(any_message, st.sampled_from(["en", "fr"]))
def test_slack_result_modal_shows_any_text_literally(message: Message, locale: str) -> None:
    view = result_modal(message, Translator(locale))
    assert_shows("\n".join(slack_texts(view)), message)


# -- Teams ---------------------------------------------------------------------------------

# A TextBlock's text and a Fact's title and value are Teams markdown: `*` `_` emphasis,
# `[x](y)` links, `-` `+` `1.` lists at a line start, and anything shaped like a tag (`<at>`,
# `<b>`) is dropped or read; a backslash makes the next punctuation character literal, and a
# paragraph needs a blank line. The model below: `\x` shows x for punctuation x, a run of line
# breaks shows one, and an unescaped control character or line-start list marker is a leak.
_TEAMS_MARKUP = set("*_[]<>&")
_TEAMS_LIST = re.compile(r"[ \t]*([-+*]|\d+[.)])[ \t]")


def teams_seen(markdown: str) -> str:
    """What Teams shows for a TextBlock or Fact text; fails where it would read markup."""
    for line in markdown.split("\n"):
        assert not _TEAMS_LIST.match(line), f"Teams list marker in {markdown!r}"
    shown, at = [], 0
    while at < len(markdown):
        ch = markdown[at]
        if ch == "\\" and at + 1 < len(markdown) and markdown[at + 1] in string.punctuation:
            shown.append(markdown[at + 1])
            at += 2
            continue
        assert ch not in _TEAMS_MARKUP, f"raw {ch!r} in Teams markdown {markdown!r}"
        shown.append(ch)
        at += 1
    return lines("".join(shown))


def teams_texts(payload: Any) -> Iterator[str]:
    """The shown text of every text in a Teams activity or card."""
    if isinstance(payload, dict):
        kind = payload.get("type")
        if kind == "TextBlock":
            yield teams_seen(payload["text"])
        if "facts" in payload:
            for fact in payload["facts"]:
                yield teams_seen(fact["title"]) + "\n" + teams_seen(fact["value"])
        for key in ("speak", "summary", "title", "tooltip", "label", "altText"):
            if isinstance(payload.get(key), str):
                yield payload[key]  # plain text (speech, notification, buttons)
        for key, value in payload.items():
            if key != "facts":
                yield from teams_texts(value)
    elif isinstance(payload, list):
        for item in payload:
            yield from teams_texts(item)


def assert_no_teams_mention(payload: Any) -> None:
    # A Teams mention needs an `entities` entry: text alone can never ping.
    assert "entities" not in json.dumps(payload)


@PROPERTY
@given(hostile(12, controls=True))
def test_teams_escape_round_trips_through_what_teams_shows(text: str) -> None:
    assert teams_seen(cards.escape(text)) == lines(text)


@PROPERTY
@given(any_message)
def test_teams_cards_show_any_text_literally(message: Message) -> None:
    activity = cards.message_activity(message)
    assert_no_teams_mention(activity)
    assert_shows("\n".join(teams_texts(activity)), message, [*written(message), message.summary])


@PROPERTY
@given(any_message)
def test_teams_workflows_card_shows_any_text_literally(message: Message) -> None:
    body = webhook_payload(WebhookFormat.TEAMS, message)
    assert_no_teams_mention(body)
    assert_shows("\n".join(teams_texts(body)), message)


@PROPERTY
@given(hostile(12, controls=True))
def test_a_teams_plain_reply_is_sent_as_plain_text(text: str) -> None:
    activity = cards.plain_activity(text)
    assert activity["textFormat"] == "plain" and activity["text"] == text


# -- Discord -------------------------------------------------------------------------------

# Discord markdown (message content; embed titles, descriptions, field names and values):
# `* _ ~ ` | > [ ]` format, `<@1>` `<@&1>` `<#1>` `</cmd:1>` `<t:0>` render as mentions and
# widgets, `#` `-#` `-` `+` `1.` at a line start are headings and lists; a backslash before
# any of them shows it literally. A link (Discord's own autolink pattern, or `<link>`) is
# shown as written, and it runs on through any backslash; `[label](link)` shows the label.
# Embed footers and button labels are plain text. Whether anyone is pinged is up to
# `allowed_mentions`, which must parse nothing.
_DISCORD_MARKUP = set("*_~`|<>[]")
_DISCORD_URL = re.compile(r"(https?://[^\s<]+[^<.,:;\"')\]\s])")
_DISCORD_BRACKETED_URL = re.compile(r"<(https?://[^ >]+)>")  # shown without its brackets
_DISCORD_MASKED_LINK = re.compile(r"\[((?:\\.|[^\[\]\\])*)\]\(https?://[^\s)]+\)")
_DISCORD_LINE = re.compile(r"[ \t]*(#{1,3}|-#|[-+*]|\d+\.)[ \t]")


def discord_seen(markdown: str) -> str:
    """What Discord shows for a markdown text; fails where it would read markup."""
    for line in markdown.split("\n"):
        assert not _DISCORD_LINE.match(line), f"Discord line marker in {markdown!r}"
    shown, at = [], 0
    while at < len(markdown):
        masked = _DISCORD_MASKED_LINK.match(markdown, at)
        if masked:  # the renderer's own links: the label shows
            shown.append(discord_seen(masked[1]))
            at = masked.end()
            continue
        link = _DISCORD_BRACKETED_URL.match(markdown, at) or _DISCORD_URL.match(markdown, at)
        if link:
            shown.append(link[1])
            at = link.end()
            continue
        ch = markdown[at]
        if ch == "\\" and at + 1 < len(markdown) and markdown[at + 1] in string.punctuation:
            shown.append(markdown[at + 1])
            at += 2
            continue
        assert ch not in _DISCORD_MARKUP, f"raw {ch!r} in Discord markdown {markdown!r}"
        shown.append(ch)
        at += 1
    return "".join(shown)


def discord_texts(payload: dict[str, Any]) -> Iterator[str]:
    """The shown text of a Discord message body: content, embeds, button labels."""
    if payload.get("content"):
        yield discord_seen(payload["content"])
    for embed in payload.get("embeds", []):
        for key in ("title", "description"):
            if key in embed:
                yield discord_seen(embed[key])
        for field in embed.get("fields", []):
            yield discord_seen(field["name"]) + "\n" + discord_seen(field["value"])
        if "footer" in embed:
            yield embed["footer"]["text"]
    for row in payload.get("components", []):
        yield from (button["label"] for button in row["components"])


def assert_discord_safe(payload: dict[str, Any], message: Message) -> None:
    assert payload["allowed_mentions"] == {"parse": []}
    assert_shows("\n".join(discord_texts(payload)), message)


@PROPERTY
@given(any_message)
def test_discord_embeds_show_any_text_literally_and_ping_no_one(message: Message) -> None:
    assert_discord_safe(discord_render.render(message), message)


@PROPERTY
@given(any_message)
def test_discord_webhook_embed_shows_any_text_literally(message: Message) -> None:
    assert_discord_safe(webhook_payload(WebhookFormat.DISCORD, message), message)


@PROPERTY
@given(hostile(controls=True))
def test_a_discord_text_message_shows_any_text_literally_and_pings_no_one(text: str) -> None:
    payload = discord_render.text_message(text)
    assert payload["allowed_mentions"] == {"parse": []}
    assert discord_seen(payload["content"]) == text


def test_a_link_after_a_bracketed_link_keeps_the_escape_glued_to_it() -> None:
    """Found by the property above: the text after a link put in angle brackets was escaped as
    plain text, so a second link in it ran on through the backslash escaping the `<` after it,
    and that `<` showed raw."""
    text = "<https://evil.example|click>[x](https://evil.example)<"
    assert discord_seen(discord_render.text_message(text)["content"]) == text


# -- webhooks: Slack and JSON --------------------------------------------------------------


@PROPERTY
@given(any_message)
def test_slack_webhook_shows_any_text_literally(message: Message) -> None:
    assert_slack_safe(webhook_payload(WebhookFormat.SLACK, message), message)


@PROPERTY
@given(any_message, hostile(2))
def test_the_json_webhook_carries_every_text_exactly(message: Message, key: str) -> None:
    sent = json.loads(encode(webhook_payload(WebhookFormat.JSON, message, key)))
    assert sent["delivery"] == key and sent["text"] == message.text
    assert (sent["title"], sent["status"], sent["summary"], sent["footer"]) == (
        message.title,
        message.status,
        message.summary,
        message.footer,
    )
    assert sent["sections"] == list(message.sections)
    assert [(f["label"], f["value"]) for f in sent["fields"]] == [
        (f.label, f.value) for f in message.facts
    ]


# -- console -------------------------------------------------------------------------------

# A terminal acts on control characters: ESC and C1 CSI start sequences that move the
# cursor, recolour, retitle the window or clear the screen; a bidi override reorders what
# follows. A person sees the printable characters; tab and line break are layout.
_LAYOUT = {"\n", "\t", "\u200c", "\u200d"}  # ZWNJ and ZWJ join scripts and emoji


def acts_on_terminal(ch: str) -> bool:
    return ch not in _LAYOUT and unicodedata.category(ch) in ("Cc", "Cf")


def printable(text: str) -> str:
    """What of `text` a terminal prints as characters."""
    return "".join(ch for ch in text.replace("\r\n", "\n") if not acts_on_terminal(ch))


def assert_terminal_safe(shown: str, message: Message) -> None:
    assert not [ch for ch in shown if acts_on_terminal(ch)], repr(shown)
    assert printable(shown).replace("\ufffd", "") == printable(message.text).replace("\ufffd", "")


@PROPERTY
@given(any_message)
def test_the_console_prints_no_control_sequence_from_any_text(message: Message) -> None:
    assert_terminal_safe(console_render.render(message), message)


# -- job page ------------------------------------------------------------------------------

_PAGE_ELEMENTS = {"html", "head", "meta", "title", "link", "script", "body", "main", "h1", "p"}
_PAGE_ELEMENTS |= {"dl", "dt", "dd", "a", "header", "div", "button", "strong", "template", "h2"}
_PAGE_ELEMENTS |= {"dialog", "kbd"}  # the layout of F3 (bot/templates/), never what people wrote


class _PageReader(HTMLParser):
    """The page as a browser builds it: the elements, and the text shown in each."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[str] = []
        self.texts: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        if tag not in ("meta", "link"):  # void elements: no end tag
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self._open and self._open.pop() == tag, f"</{tag}> closes nothing it opened"

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] != "style":
            self.texts.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError(f"a comment was injected: {data!r}")


@PROPERTY
@given(any_message, st.sampled_from(["en", "fr"]))
def test_the_job_page_shows_any_text_as_text_and_injects_no_element(
    message: Message, locale: str
) -> None:
    reader = _PageReader()
    reader.feed(pages.page(message, locale))
    reader.close()
    assert set(reader.elements) <= _PAGE_ELEMENTS
    assert not [ch for text in reader.texts for ch in text if acts_on_terminal(ch)]
    shown = "\n".join(printable(t).replace("\ufffd", "") for t in reader.texts)
    for part in [*written(message), message.summary]:
        if part != message.footer:  # the page has no footer: its buttons' hint is for chat
            assert printable(part).replace("\ufffd", "") in shown, part


def test_a_discord_link_ends_where_discord_ends_it() -> None:
    # Found by the property above: the link was cut before `>`, whose escape Discord then
    # read as part of the link ("https://evil.example|click\\>").
    escaped = discord_render.escape("Job #7 of <https://evil.example|click> failed")
    assert escaped == "Job #7 of \\<https://evil.example|click> failed"
    assert discord_seen(escaped) == "Job #7 of <https://evil.example|click> failed"
    escaped = discord_render.escape("<https://evil.example|click><, then")
    assert escaped == "\\<<https://evil.example|click>\\>\\<, then"
    assert discord_seen(escaped) == "<https://evil.example|click><, then"
    escaped = discord_render.escape("[x](https://evil.example)<")
    assert escaped == "\\[x\\](<https://evil.example>)\\<"
    assert discord_seen(escaped) == "[x](https://evil.example)<"
    # Trailing punctuation is not part of a Discord link, so it is escaped as text.
    assert discord_render.escape("see https://x.test/a_b].") == "see <https://x.test/a_b>\\]."


def test_the_discord_webhook_embed_escapes_its_title_and_field_names() -> None:
    # Found by the property above: the title and the field names went out as written, so a
    # target named `<` or `*x*` was read as markup.
    message = Message(title="<", fields=(Field("*x* <@&1>", "_v_"),))
    [embed] = webhook_payload(WebhookFormat.DISCORD, message)["embeds"]
    assert embed["title"] == "\\<"
    assert embed["fields"][0] == {"name": "\\*x\\* \\<@&1\\>", "value": "\\_v\\_", "inline": True}


def test_a_cut_discord_text_never_ends_in_half_an_escape() -> None:
    # The cut fell between a backslash and the `*` it escaped: the backslash showed.
    value = "a" * (discord_render.MAX_FIELD_VALUE - 2) + "*b"
    [embed] = discord_render.render(Message(title="t", fields=(Field("f", value),)))["embeds"]
    assert embed["fields"][0]["value"] == "a" * (discord_render.MAX_FIELD_VALUE - 2) + "…"
    [hooked] = webhook_payload(WebhookFormat.DISCORD, Message(title="*" * 300))["embeds"]
    assert hooked["title"] == "\\*" * 127 + "…" and discord_seen(hooked["title"]) == "*" * 127 + "…"


# -- long text: cut or split, never garbled ------------------------------------------------

_LONG = st.text(st.sampled_from("&<>*_a \n"), min_size=2100, max_size=3200)


def _prefix_shown(shown: str, text: str) -> None:
    """`shown` is `text`, or its beginning followed by an ellipsis."""
    assert shown == text or (shown.endswith("…") and text.startswith(shown[:-1])), shown[-20:]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(_LONG)
def test_slack_cuts_and_splits_long_text_between_entities(text: str) -> None:
    blocks = slack_render.blocks(Message(title="t", fields=(Field("f", text),), sections=(text,)))
    [value] = [slack_seen(f["text"]) for b in blocks for f in b.get("fields", [])]
    _prefix_shown(value.removeprefix("*f*\n"), text)
    pieces = [slack_seen(b["text"]["text"]) for b in blocks[1:] if "text" in b]
    # Split at line ends where possible: the pieces hold every character but those breaks.
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(_LONG)
def test_discord_cuts_long_text_between_escapes(text: str) -> None:
    [embed] = discord_render.render(Message(title="t", fields=(Field("f", text),)))["embeds"]
    _prefix_shown(discord_seen(embed["fields"][0]["value"]), text)
    [embed] = discord_render.render(Message(title="t", sections=(text,)))["embeds"]
    _prefix_shown(discord_seen(embed["description"]), text)


def test_a_slack_text_split_or_cut_at_an_entity_keeps_it_whole() -> None:
    # Found by the property above: the split fell inside `&amp;`, showing "&a" and "mp;".
    text = "a" * 2998 + "&b"
    first, second = slack_render.blocks(Message(title="t", sections=(text,)))[1:]
    assert (first["text"]["text"], second["text"]["text"]) == ("a" * 2998, "&amp;b")
    field = slack_render.blocks(Message(title="t", fields=(Field("f", "a" * 1993 + "<b"),)))[1]
    assert field["fields"][0]["text"] == "*f*\n" + "a" * 1993 + "…"
