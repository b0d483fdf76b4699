"""The platform-free reply (`Message`) that every adapter renders (Block Kit, card, embed, text).

Status is always a word (F1): `Tone` only lets a renderer repeat it with colour or emoji.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from core.commands.actions import Press
from core.commands.forms import Form
from core.domain.capabilities import Capability


class Tone(StrEnum):
    SUCCESS = "success"
    WARNING = "warning"
    DANGER = "danger"
    INFO = "info"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Field:
    label: str
    value: str

    @property
    def is_link(self) -> bool:
        """The whole value is a web link (a job page, a runbook), not text to show."""
        value = self.value
        if not value or any(c.isspace() for c in value):
            return False
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class Image:
    url: str  # where a platform fetches it (Slack, Teams); may be empty when `data` is set
    alt_text: str
    # The image itself, for a platform that uploads it (Discord attaches it with its alt text,
    # the console writes it to a file); empty for an image known only by its URL.
    data: bytes = b""
    filename: str = ""  # a name for the uploaded or written file (`stats-demo.png`)


@dataclass(frozen=True)
class Action:
    """A button: the core names what it does, what it needs and which object version it binds."""

    label: str
    name: str
    object_id: str
    version: int
    capability: Capability
    accessibility_label: str = ""
    style: Tone = Tone.NEUTRAL
    # The form the press opens (core/commands/forms.py), for a platform that can draw it under the
    # message itself (a Teams card): there it opens in place and replaces nothing.
    form: Form | None = None

    @property
    def press(self) -> Press:
        """What pressing this button sends back (each platform's codec encodes it)."""
        return Press(self.name, self.object_id, self.version)


@dataclass(frozen=True)
class Message:
    title: str
    status: str = ""  # the status in words, already translated
    tone: Tone = Tone.NEUTRAL
    fields: tuple[Field, ...] = ()
    sections: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    actions: tuple[Action, ...] = ()
    summary: str = ""  # one spoken sentence (F2)
    ephemeral: bool = False
    job_id: int | None = None
    draft_id: int | None = None  # a schedule draft's card: its copies are redrawn together
    footer: str = ""
    error_key: str = ""  # set on refusals and errors: which catalog key explains them
    # The label of a free-text input the actions carry, where the platform can put one beside
    # its buttons (a reviewer's comment on a Teams card); empty when there is none.
    comment_label: str = ""
    # Between a field's label and its value in the plain text: the catalog's `field.separator`
    # (`: ` in English; French puts a narrow no-break space before the colon).
    field_separator: str = ": "
    # Shown to the whole conversation even where a platform answers a command privately by
    # default (a Slack slash command): a draft's review card, for the reviewers there.
    shared: bool = False
    # A job's message: notifications and screen readers say its summary first (F2).
    summary_first: bool = False
    # A message of its own to send after this one, to the same person and place (the guided
    # tour's offer after a newcomer's first answer, D1); None for almost every answer.
    follow_up: Message | None = None

    @property
    def facts(self) -> list[Field]:
        """The fields shown as facts: all but the links."""
        return [f for f in self.fields if not f.is_link]

    @property
    def links(self) -> list[Field]:
        """The fields whose whole value is a web link: renderers draw them as link buttons."""
        return [f for f in self.fields if f.is_link]

    @property
    def headline(self) -> str:
        """The title and the status in words, on one line (F1)."""
        return f"{self.title} — {self.status}" if self.status else self.title

    @property
    def text(self) -> str:
        """The whole message as plain text: Slack's fallback, the console's reply."""
        lines = [self.headline]
        lines.extend(f"{f.label}{self.field_separator}{f.value}" for f in self.fields)
        for section in self.sections:
            lines.append("")
            lines.append(section)
        lines.extend(f"[{image.alt_text}]" for image in self.images)
        if self.footer:
            lines.append("")
            lines.append(self.footer)
        return "\n".join(lines)

    @property
    def fallback(self) -> str:
        """What a notification and a screen reader read (Slack's `text`): a job's message
        leads with its spoken summary (F2: the state and the next step), then says all."""
        text = self.text
        if self.summary_first and self.summary and not text.startswith(self.summary):
            return f"{self.summary}\n\n{text}"
        return text


def ending(card: Message) -> Message:
    """The one-sentence outcome of a job, said in its thread when it ends (F1, F2)."""
    return Message(
        title=card.summary,
        status=card.status,
        tone=card.tone,
        summary=card.summary,
        job_id=card.job_id,
    )
