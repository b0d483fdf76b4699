"""Forms, platform-free: the note and schedule-draft forms, and what a submission becomes.

Slack shows a `Form` as a modal, Teams as card inputs, Discord as a modal; each hands the
values back here. Every input has a label (not just a placeholder), and a bad value comes
back as a `FormInvalid` naming the input, so the platform can show the error on that field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from core.commands import model as c
from core.commands.actions import COMMENT_INPUT, DRAFT_PREFIX, MAX_COMMENT, Press
from core.commands.grammar.parser import MAX_TEXT_LENGTH
from core.commands.numbers import record_id, whole_number
from core.domain import cron
from core.domain.model import AnnotationKind
from core.domain.schedules import Verdict
from core.errors import ExportbotError
from core.i18n import Translator

NOTE_FORM = "note"
DRAFT_FORM = "draft"
DECISION_FORM = "decision"
MAX_NOTE = MAX_TEXT_LENGTH  # one limit for a note, typed with `annotate` or in the form
MAX_KEEP = 10_000


class InputKind(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    NUMBER = "number"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormInput:
    name: str
    label: str
    kind: InputKind
    required: bool = True
    initial: str = ""
    hint: str = ""
    placeholder: str = ""
    choices: tuple[Choice, ...] = ()
    max_length: int | None = None


@dataclass(frozen=True)
class PostRef:
    """A message on a platform: the note form keeps the one a note was made from (its link)."""

    channel: str
    message_id: str


@dataclass(frozen=True)
class FormRef:
    """Which form, about what, as it rides through a platform and comes back: the note form
    bound to job 7 (`FormRef.note(7)`, and the post it was made from), the decision form on a
    press (`FormRef.decision(press)`), the draft form (for a target, or none yet).

    `context` stays the text the platform carried: a forged one is refused when the form is
    submitted, on the input it concerns, like any other bad value (`form_command`).
    The wire string (a Discord modal's `custom_id`) is `<form>:<context>[|<channel>/<message>]`,
    as modals already open on people's screens hold it."""

    form_id: str
    context: str = ""
    source: PostRef | None = None

    @classmethod
    def note(cls, job_id: int, source: PostRef | None = None) -> FormRef:
        return cls(NOTE_FORM, str(job_id), source)

    @classmethod
    def draft(cls, target: str = "") -> FormRef:
        return cls(DRAFT_FORM, target)

    @classmethod
    def decision(cls, press: Press) -> FormRef:
        return cls(DECISION_FORM, press.encode())

    @property
    def job_id(self) -> int | None:
        """The job a note form is bound to; None for any other form or a forged context."""
        return record_id(self.context) if self.form_id == NOTE_FORM else None

    @property
    def press(self) -> Press | None:
        """The press a decision form completes; None for any other form or a forged one."""
        return Press.decode(self.context) if self.form_id == DECISION_FORM else None

    def encode(self) -> str:
        encoded = f"{self.form_id}:{self.context}"
        if self.source is not None:
            encoded += f"|{self.source.channel}/{self.source.message_id}"
        return encoded

    @classmethod
    def decode(cls, text: str) -> FormRef:
        """Never fails: what is not ours comes back as a form no one knows, or a context no
        job has, and is refused on submission."""
        head, _, tail = text.partition("|")
        form_id, _, context = head.partition(":")
        channel, _, message_id = tail.partition("/")
        source = PostRef(channel, message_id) if channel and message_id else None
        return cls(form_id, context, source)


@dataclass(frozen=True)
class Form:
    form_id: str
    title: str
    submit_label: str
    inputs: tuple[FormInput, ...]
    context: str = ""  # what the form is about (a job number), carried through the platform
    # What a platform that checks inputs itself says of a required one left empty.
    required_error: str = ""

    @property
    def ref(self) -> FormRef:
        return FormRef(self.form_id, self.context)


class FormInvalid(Exception):
    """Translated messages per input name; the platform shows each on its field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def note_form(t: Translator, job_id: int, text: str = "") -> Form:
    """The note form bound to `job_id` (its context is `FormRef.note(job_id).context`)."""
    kinds = tuple(Choice(k.value, t.t(f"annotation.kind.{k.value}")) for k in AnnotationKind)
    return Form(
        NOTE_FORM,
        t.t("form.note.title", job=job_id),
        t.t("form.note.submit"),
        (
            FormInput(
                "text",
                t.t("form.note.text"),
                InputKind.LONG_TEXT,
                initial=text[:MAX_NOTE],
                hint=t.t("form.note.text_hint", job=job_id),
                max_length=MAX_NOTE,
            ),
            FormInput(
                "kind",
                t.t("form.note.kind"),
                InputKind.CHOICE,
                initial=AnnotationKind.NOTE.value,
                choices=kinds,
            ),
        ),
        context=FormRef.note(job_id).context,
        required_error=t.t("form.error.required"),
    )


def draft_form(t: Translator, targets: Sequence[str], target: str = "") -> Form:
    return Form(
        DRAFT_FORM,
        t.t("form.draft.title"),
        t.t("form.draft.submit"),
        (
            FormInput(
                "target",
                t.t("form.draft.target"),
                InputKind.CHOICE,
                initial=target if target in targets else "",
                choices=tuple(Choice(name, name) for name in targets),
            ),
            FormInput(
                "cron",
                t.t("form.draft.cron"),
                InputKind.TEXT,
                placeholder="0 2 * * *",
                hint=t.t("form.draft.cron_hint"),
                max_length=128,
            ),
            FormInput(
                "timezone",
                t.t("form.draft.timezone"),
                InputKind.TEXT,
                initial="UTC",
                hint=t.t("form.draft.timezone_hint"),
                max_length=64,
            ),
            FormInput(
                "keep",
                t.t("form.draft.keep"),
                InputKind.NUMBER,
                required=False,
                hint=t.t("form.draft.keep_hint"),
            ),
            FormInput(
                "exclude",
                t.t("form.draft.exclude"),
                InputKind.LONG_TEXT,
                required=False,
                hint=t.t("form.draft.exclude_hint"),
                max_length=2000,
            ),
        ),
    )


def decision_form(t: Translator, action: str, draft_id: int, version: int) -> Form:
    """The reason for a decision on draft `draft_id` (as drawn at `version`): optional for a
    rejection, required when asking for changes (which ones, or the author cannot act)."""
    verdict = Verdict(action.removeprefix(DRAFT_PREFIX))
    ref = FormRef.decision(Press(action, str(draft_id), version))
    required = verdict is Verdict.CHANGES
    return Form(
        DECISION_FORM,
        t.t("form.decision.title", verdict=t.t(f"verdict.{verdict.value}"), draft=draft_id),
        t.t("form.decision.submit"),
        (
            FormInput(
                COMMENT_INPUT,
                t.t("form.decision.comment"),
                InputKind.LONG_TEXT,
                required=required,
                hint=t.t(f"form.decision.hint.{verdict.value}"),
                max_length=MAX_COMMENT,
            ),
        ),
        context=ref.context,
    )


def form_command(
    ref: FormRef, values: Mapping[str, str], t: Translator, *, link: str = ""
) -> c.Command:
    """The command a submitted form stands for; `FormInvalid` names every bad input."""
    if ref.form_id == NOTE_FORM:
        return _note_command(ref, values, t, link)
    if ref.form_id == DRAFT_FORM:
        return _draft_command(values, t)
    if ref.form_id == DECISION_FORM:
        return _decision_command(ref, values, t)
    raise FormInvalid({"": t.t("form.error.unknown")})


# Which input a handler's refusal belongs on; anything else shows on the first input.
ERROR_INPUTS = {
    "error.target_not_found": "target",
    "error.bad_cron": "cron",
    "error.bad_timezone": "timezone",
    "error.keep_conflict": "keep",
}


def _note_command(ref: FormRef, values: Mapping[str, str], t: Translator, link: str) -> c.Command:
    errors: dict[str, str] = {}
    text = values.get("text", "").strip()
    if not text:
        errors["text"] = t.t("form.error.required")
    elif len(text) > MAX_NOTE:
        errors["text"] = t.t(
            "form.error.too_long", limit=t.number(MAX_NOTE), length=t.number(len(text))
        )
    kind = values.get("kind") or AnnotationKind.NOTE.value
    if kind not in {k.value for k in AnnotationKind}:
        errors["kind"] = t.t("form.error.choice", value=kind)
    job_id = ref.job_id
    if job_id is None:
        errors["text"] = t.t("form.error.no_job")
    if errors or job_id is None:
        raise FormInvalid(errors)
    return c.Annotate(job_id, text, AnnotationKind(kind), link=link)


def _decision_command(ref: FormRef, values: Mapping[str, str], t: Translator) -> c.Command:
    press = ref.press
    command = press.command() if press is not None else None
    if not isinstance(command, c.ReviewDraft):
        raise FormInvalid({"": t.t("form.error.unknown")})
    comment = values.get(COMMENT_INPUT, "").strip()
    if not comment and command.verdict is Verdict.CHANGES:
        raise FormInvalid({COMMENT_INPUT: t.t("form.error.required")})
    if len(comment) > MAX_COMMENT:
        error = t.t(
            "form.error.too_long", limit=t.number(MAX_COMMENT), length=t.number(len(comment))
        )
        raise FormInvalid({COMMENT_INPUT: error})
    return replace(command, comment=comment)


def _draft_command(values: Mapping[str, str], t: Translator) -> c.Command:
    errors: dict[str, str] = {}
    target = values.get("target", "").strip()
    if not target:
        errors["target"] = t.t("form.error.required")
    expression = values.get("cron", "").strip()
    timezone = values.get("timezone", "").strip() or "UTC"
    for name, check, value in (
        ("cron", cron.validate, expression),
        ("timezone", cron.zone, timezone),
    ):
        try:
            check(value)
        except ExportbotError as error:
            errors[name] = t.t(error.key, **error.params)
    keep_text = values.get("keep", "").strip()
    keep = whole_number(keep_text) if keep_text else None
    if keep_text and (keep is None or not 1 <= keep <= MAX_KEEP):
        errors["keep"] = t.t("form.error.keep", value=keep_text, high=t.number(MAX_KEEP))
    if errors:
        raise FormInvalid(errors)
    patterns = tuple(p.strip() for p in values.get("exclude", "").splitlines() if p.strip())
    return c.DraftSchedule(target, expression, timezone, keep_count=keep, exclude=patterns or None)


def errors_in_words(t: Translator, form: Form, invalid: FormInvalid) -> str:
    """Each error after the label of its input, for a form whose inputs cannot show them."""
    labels = {field.name: field.label for field in form.inputs}
    return " ".join(
        t.t("form.error.on_input", label=labels[name], error=error) if name in labels else error
        for name, error in invalid.errors.items()
    )
