"""`Message` → a Discord message payload (embeds + components), `Form` → a modal, and back.

Embeds have no alt text, so the status is written in words in the embed's title (F1); the
colour only repeats it. Fields whose whole value is a link (the signed job page, a runbook)
become link buttons, as on Teams. A button's `custom_id` is `<action>:<object>:<version>`:
the action name Slack puts in `action_id`, then Slack's `value`, so a press still means the
same thing after a restart (flow 2). Images go out as uploads with their alt text as the
attachment's `description`, the one place Discord keeps alt text.

Text from the core is escaped for Discord markdown in embed titles, descriptions and fields
(they render markdown); footers, button labels and modal texts do not, and stay as written.
`allowed_mentions` is empty, so no text can ping anyone.

Modals use the current layout: each input inside a Label (type 18) carrying the label and the
hint (Discord deprecated text inputs in action rows and their own `label`). A choice becomes a
string select inside its Label (Discord's modal select); with more than 25 choices, or a value
longer than Discord allows, it falls back to a short text input listing the choices in its
placeholder.

Limits from Discord's reference: 10 embeds and 6,000 characters of embed text per message;
per embed 256 of title, 4,096 of description, 25 fields (256 name, 1,024 value), 2,048 of
footer; 5 action rows of 5 buttons; 100 of custom_id, 80 of button label, 512 of link URL;
1,024 of attachment description; a modal has a title of 45 and 1 to 5 components; a Label 45
of label and 100 of description; a text input 100 of placeholder and 4,000 of value; a select
25 options of 100.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from core.commands.actions import Press
from core.commands.forms import Form, FormInput, FormRef, InputKind, PostRef
from core.safety.text import cut
from core.views.message import Action, Field, Image, Message, Tone

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TEXT = 6000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_URL = 512
MAX_ATTACHMENTS = 10
MAX_ALT_TEXT = 1024
MAX_MODAL_TITLE = 45
MAX_MODAL_INPUTS = 5
MAX_INPUT_LABEL = 45
MAX_INPUT_HINT = 100
MAX_PLACEHOLDER = 100
MAX_SELECT_PLACEHOLDER = 150
MAX_OPTIONS = 25
MAX_OPTION_TEXT = 100
MAX_INPUT_LENGTH = 4000
MIN_TEXT = 64  # the shortest a field value gets while a message is shrunk to fit
SHORT_FIELD = 60  # values up to this long sit side by side (inline)

# Discord's enums.
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, LABEL = 1, 2, 3, 4, 18
PRIMARY, SECONDARY, SUCCESS, DANGER, LINK = 1, 2, 3, 4, 5
SHORT, PARAGRAPH = 1, 2
MODAL = 9  # interaction callback type
EPHEMERAL = 1 << 6  # message flag, for interaction responses and follow-ups only

COLORS = {
    Tone.SUCCESS: 0x2EB67D,
    Tone.WARNING: 0xECB22E,
    Tone.DANGER: 0xE01E5A,
    Tone.INFO: 0x1D9BD1,
    Tone.NEUTRAL: 0x99AAB5,
}
BUTTON_STYLES = {Tone.SUCCESS: SUCCESS, Tone.DANGER: DANGER}

Json = dict[str, Any]

# Where Discord's own autolink starts and ends (simple-markdown's `url` rule): a link kept
# whole must end where Discord ends it, or an escape inside it shows as a backslash.
_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
# Backslash first, or the escapes added for the others would be escaped again.
_SPECIAL = ("\\", "*", "_", "~", "`", "|", "<", ">", "[", "]")
# What follows a link up to a space or `<` (that one included): Discord reads it as more link.
_GLUED = re.compile(r"[^\s<]*<?")
# Markers that only mean something at the start of a line: headings, subtext, lists.
_LINE_MARKER = re.compile(r"^([ \t]*)(#{1,3}|-#|[-+]|\d+[.)])(?=[ \t])", re.MULTILINE)
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")
_IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


@dataclass(frozen=True)
class Upload:
    """An image to attach to the message, its alt text as Discord's `description`.

    `data` is None for an image the core only knows by URL: the sender fetches `url` first.
    """

    filename: str
    description: str
    data: bytes | None
    url: str = ""


def escape(text: str) -> str:
    """Core or user text shown exactly as typed in Discord markdown: emphasis, code, spoiler,
    quote, mention and link characters escaped, line-start markers defused; links kept whole
    (a backslash inside a URL would break it)."""
    pieces, at = [], 0
    while (link := _URL.search(text, at)) is not None:
        pieces.append(_escape_plain(text[at : link.start()]))
        glued = _GLUED.match(text, link.end())
        shown = _link(link.group(), glued.group() if glued else "")
        pieces.append(shown)
        # A bracketed link ends at its `>`: what followed it in the match is read again, as
        # text that may hold another link (which needs the same care).
        at = link.start() + len(shown) - 2 if shown.startswith("<") else link.end()
    pieces.append(_escape_plain(text[at:]))
    return _LINE_MARKER.sub(lambda m: f"{m[1]}{m[2][:-1]}\\{m[2][-1]}", "".join(pieces))


def _link(url: str, glued: str) -> str:
    """A link as Discord will read it. Discord's link runs on through the text glued to it,
    up to a space or `<`, so a backslash escaping anything there would be read as part of
    the link; such a link goes in angle brackets, where it ends at the first `>` (Discord
    shows it without them). Only the part before that `>` is returned then."""
    if not any(special in glued for special in _SPECIAL):
        return url
    return f"<{url.partition('>')[0]}>"


def fit(text: str, limit: int) -> str:
    """`text` escaped (see `escape`) and cut to `limit` characters."""
    return cut_markdown(escape(text), limit)


def cut_markdown(markdown: str, limit: int) -> str:
    """Escaped text cut to `limit` characters, never between a backslash and the character
    it escapes (the backslash would show)."""
    if len(markdown) <= limit:
        return markdown
    head = markdown[: limit - 1]
    if (len(head) - len(head.rstrip("\\"))) % 2:
        head = head[:-1]
    return head + "…"


def _escape_plain(text: str) -> str:
    # `str.replace` per character, not a regex substitution: on Python 3.11 `re.sub` with a
    # template expands it in Python for every match, a fifth of a help answer's cost.
    for special in _SPECIAL:
        if special in text:
            text = text.replace(special, "\\" + special)
    return text


def custom_id(action: Action) -> str | None:
    """`job.retry:7:0`: the action, then the object and the version it was drawn for; None
    when that does not fit Discord's 100 characters (cutting would change its meaning)."""
    encoded = action.press.encode()
    return encoded if len(encoded) <= MAX_CUSTOM_ID else None


def parse_custom_id(value: str) -> tuple[str, str, int] | None:
    """`"job.retry:7:0"` → `("job.retry", "7", 0)`; None for anything else (`Press.decode`)."""
    press = Press.decode(value)
    return None if press is None else (press.action, press.object_id, press.version)


def render(message: Message) -> Json:
    """The body of a channel message, interaction response or follow-up (without files:
    see `uploads`). Add `"flags": EPHEMERAL` for an answer only the asker sees."""
    links = message.links
    rows, unplaced = _rows(message.actions, links)
    return {
        "embeds": _embeds(message, unplaced),
        "components": rows,
        "allowed_mentions": {"parse": []},
    }


def text_message(text: str) -> Json:
    """A message of text alone (a short private answer, a file's caption): markdown escaped
    like embed text, pinging no one."""
    return {"content": fit(text, MAX_CONTENT), "allowed_mentions": {"parse": []}}


def uploads(message: Message) -> list[Upload]:
    """The message's images as files to attach (at most 10), each with its alt text."""
    made: list[Upload] = []
    for index, image in enumerate(message.images[:MAX_ATTACHMENTS]):
        data, extension = _data_url(image.url)
        if image.data:  # the core drew it (a chart): its bytes, a PNG
            data, extension = image.data, "png"
        name = _filename(image, index, extension)
        url = "" if data is not None else image.url
        made.append(Upload(name, cut(image.alt_text, MAX_ALT_TEXT), data, url))
    return made


def attachments_field(files: Sequence[Upload]) -> list[Json]:
    """`attachments` for a raw multipart request: part `files[<id>]` gets this alt text."""
    return [
        {"id": index, "filename": upload.filename, "description": upload.description}
        for index, upload in enumerate(files)
    ]


# -- embeds ------------------------------------------------------------------------------


def _embeds(message: Message, links: Sequence[Field]) -> list[Json]:
    """One embed, plus one more per 25 facts beyond the first 25. Fact values and the
    description shorten together until all embed text fits Discord's 6,000 characters; if
    even the shortest do not fit, the last facts are left out."""
    limit = MAX_FIELD_VALUE
    while True:
        embeds = _draw(message, links, limit)
        if _size(embeds) <= MAX_EMBED_TEXT or limit <= MIN_TEXT:
            break
        limit = max(MIN_TEXT, limit // 2)
    while _size(embeds) > MAX_EMBED_TEXT and embeds[-1]["fields"]:
        embeds[-1]["fields"].pop()  # still too much: the last facts give way
        if not embeds[-1]["fields"] and len(embeds) > 1:
            footer = embeds.pop().get("footer")
            if footer:
                embeds[-1]["footer"] = footer
    for embed in embeds:
        if not embed["fields"]:
            del embed["fields"]
    return embeds


def _draw(message: Message, links: Sequence[Field], limit: int) -> list[Json]:
    facts = [_field(f, limit) for f in message.facts]
    first: Json = {"title": _title(message), "color": COLORS[message.tone], "fields": []}
    description = _description(message, links, min(MAX_DESCRIPTION, 4 * limit))
    if description:
        first["description"] = description
    embeds = [first]
    for start in range(0, min(len(facts), MAX_FIELDS * MAX_EMBEDS), MAX_FIELDS):
        if start:
            embeds.append({"color": COLORS[message.tone], "fields": []})
        embeds[-1]["fields"] = facts[start : start + MAX_FIELDS]
    if message.footer:
        embeds[-1]["footer"] = {"text": cut(message.footer, MAX_FOOTER)}
    return embeds


def _title(message: Message) -> str:
    """Title and status word; the status survives any cut, it is the point (F1)."""
    if not message.status:
        return fit(message.title, MAX_TITLE)
    status = fit(message.status, MAX_TITLE // 2)
    room = MAX_TITLE - len(status) - len(" — ")
    return f"{fit(message.title, room)} — {status}"


def _description(message: Message, links: Sequence[Field], limit: int) -> str:
    parts = [escape(s) for s in message.sections]
    parts.extend(markdown_link(f.label, f.value) for f in links)
    return cut_markdown("\n\n".join(parts), limit)


def _field(item: Field, limit: int) -> Json:
    value = fit(item.value, limit) or "—"  # Discord refuses an empty value
    return {
        "name": fit(item.label, MAX_FIELD_NAME) or "—",
        "value": value,
        "inline": len(value) <= SHORT_FIELD and "\n" not in value,
    }


def markdown_link(label: str, url: str) -> str:
    # A parenthesis would end the link early; percent-encoded it means the same URL.
    target = url.replace("(", "%28").replace(")", "%29")
    return f"[{escape(label)}]({target})"


def _size(embeds: Sequence[Json]) -> int:
    """What Discord counts against 6,000: titles, descriptions, field names and values,
    footers."""
    total = 0
    for embed in embeds:
        total += len(embed.get("title", "")) + len(embed.get("description", ""))
        total += len(embed.get("footer", {}).get("text", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    return total


# -- components --------------------------------------------------------------------------


def _rows(pressable: Sequence[Action], links: Sequence[Field]) -> tuple[list[Json], list[Field]]:
    """Buttons in action rows (5 per row, 5 rows): the actions first, then the links. Links
    that find no room, or whose URL is too long for a button, go in the description."""
    buttons: list[Json] = []
    seen: set[str] = set()
    for action in pressable:
        encoded = custom_id(action)
        # Discord refuses a message with two equal custom_ids; a too-long one is left out.
        if encoded is not None and encoded not in seen:
            seen.add(encoded)
            buttons.append(_button(action, encoded))
    room = MAX_ROWS * MAX_ROW_BUTTONS
    buttons = buttons[:room]
    unplaced: list[Field] = []
    for link in links:
        if len(buttons) < room and len(link.value) <= MAX_URL:
            buttons.append(_link_button(link))
        else:
            unplaced.append(link)
    rows = [
        {"type": ACTION_ROW, "components": buttons[start : start + MAX_ROW_BUTTONS]}
        for start in range(0, len(buttons), MAX_ROW_BUTTONS)
    ]
    return rows, unplaced


def _button(action: Action, encoded: str) -> Json:
    return {
        "type": BUTTON,
        "style": BUTTON_STYLES.get(action.style, SECONDARY),
        "label": cut(action.label, MAX_BUTTON_LABEL),
        "custom_id": encoded,
    }


def _link_button(link: Field) -> Json:
    return {
        "type": BUTTON,
        "style": LINK,
        "label": cut(link.label, MAX_BUTTON_LABEL),
        "url": link.value,
    }


# -- uploads -----------------------------------------------------------------------------


def _data_url(url: str) -> tuple[bytes | None, str]:
    """The bytes of a `data:` URL and a file extension for its type; (None, "") otherwise."""
    if not url.startswith("data:") or "," not in url:
        return None, ""
    header, _, body = url[5:].partition(",")
    media_type, *params = header.split(";")
    try:
        data = base64.b64decode(body, validate=True) if "base64" in params else None
    except (binascii.Error, ValueError):
        return None, ""
    if data is None:
        data = unquote_to_bytes(body)
    return data, _IMAGE_TYPES.get(media_type.lower(), "bin")


def _filename(image: Image, index: int, extension: str) -> str:
    """A name Discord keeps as is: safe characters, unique by its position."""
    if image.filename and extension:
        safe = _SAFE_FILENAME.sub("_", image.filename).strip("._") or "image"
        return f"{index + 1}-{safe}"[:100]
    if extension:
        return f"image-{index + 1}.{extension}"
    base = urlsplit(image.url).path.rsplit("/", 1)[-1]
    safe = _SAFE_FILENAME.sub("_", base).strip("._")
    if "." not in safe:
        safe = f"{safe or 'image'}.png"
    return f"{index + 1}-{safe}"[:100]


# -- modals ------------------------------------------------------------------------------


def modal_id(form: Form, source: PostRef | None = None) -> str:
    """`note:7`: which form and what it is about (a job number), carried by the modal;
    `note:7|<channel>/<message>` for a note made from a message (`FormRef.encode`)."""
    if len(form.ref.encode()) > MAX_CUSTOM_ID:
        raise ValueError(f"Form '{form.form_id}' context is too long for a modal custom_id.")
    return replace(form.ref, source=source).encode()


def parse_modal_id(value: str) -> tuple[str, str]:
    """`"note:7"` → `("note", "7")`: the form id and its context (`FormRef.decode`)."""
    ref = FormRef.decode(value)
    return ref.form_id, ref.context


def modal(form: Form, source: PostRef | None = None) -> Json:
    """The `data` of a modal interaction response (type 9).

    Raises:
        ValueError: the form has more inputs than a Discord modal holds (5).
    """
    if not 1 <= len(form.inputs) <= MAX_MODAL_INPUTS:
        raise ValueError(
            f"Form '{form.form_id}' has {len(form.inputs)} inputs; a Discord modal holds 1 to 5."
        )
    return {
        "custom_id": modal_id(form, source),
        "title": cut(form.title, MAX_MODAL_TITLE),
        "components": [_labelled(field) for field in form.inputs],
    }


def modal_response(form: Form, source: PostRef | None = None) -> Json:
    return {"type": MODAL, "data": modal(form, source)}


def modal_values(components: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Input name → value from a modal submit's `data.components`: Labels holding text
    inputs or selects (one value), or the older action rows of text inputs."""
    values: dict[str, str] = {}
    for top in components:
        children = [top["component"]] if "component" in top else top.get("components", [])
        for child in children:
            name = str(child.get("custom_id", ""))
            if "values" in child:
                chosen = child.get("values") or []
                values[name] = str(chosen[0]) if chosen else ""
            elif name:
                values[name] = str(child.get("value") or "")
    return values


def _labelled(field: FormInput) -> Json:
    label: Json = {
        "type": LABEL,
        "label": cut(field.label, MAX_INPUT_LABEL),
        "component": _select(field) if _fits_select(field) else _text_input(field),
    }
    if field.hint:
        label["description"] = cut(field.hint, MAX_INPUT_HINT)
    return label


def _fits_select(field: FormInput) -> bool:
    return (
        field.kind is InputKind.CHOICE
        and 1 <= len(field.choices) <= MAX_OPTIONS
        and all(0 < len(c.value) <= MAX_OPTION_TEXT for c in field.choices)
    )


def _select(field: FormInput) -> Json:
    options = [
        {
            "label": cut(c.label, MAX_OPTION_TEXT) or c.value,
            "value": c.value,
            **({"default": True} if c.value == field.initial else {}),
        }
        for c in field.choices
    ]
    select: Json = {
        "type": STRING_SELECT,
        "custom_id": field.name,
        "options": options,
        "required": field.required,
    }
    if not field.required:
        select["min_values"] = 0  # Discord wants min_values omitted or ≥ 1 when required
    if field.placeholder:
        select["placeholder"] = cut(field.placeholder, MAX_SELECT_PLACEHOLDER)
    return select


def _text_input(field: FormInput) -> Json:
    element: Json = {
        "type": TEXT_INPUT,
        "custom_id": field.name,
        "style": PARAGRAPH if field.kind is InputKind.LONG_TEXT else SHORT,
        "required": field.required,
    }
    if field.max_length:
        element["max_length"] = min(field.max_length, MAX_INPUT_LENGTH)
    if field.initial:
        element["value"] = field.initial[: element.get("max_length", MAX_INPUT_LENGTH)]
    placeholder = field.placeholder or ", ".join(c.value for c in field.choices)
    if placeholder:
        element["placeholder"] = cut(placeholder, MAX_PLACEHOLDER)
    return element
