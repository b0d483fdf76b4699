"""Buttons, platform-free: what each action name does, and the command a press becomes.

A button carries `(name, object id, version)`; each adapter's codec reads them into a `Press`
once, at the edge, and the core decides what it means (ARCHITECTURE.md, flow 2). Actions
that need more input than a press open a form instead (`FORM_ACTIONS`); the adapter shows it
as a modal or card inputs.

The wire format is fixed (platforms keep the buttons of old messages): Slack's `value` and
Teams' data hold `<object>:<version>` (`Press.value`), beside the action name; a Discord
`custom_id` holds all three, `<action>:<object>:<version>` (`Press.encode`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.commands import model as c
from core.commands.numbers import record_id, whole_number
from core.domain.schedules import Verdict
from core.domain.tour import step_number
from core.safety.text import clean

JOB_RETRY = "job.retry"
JOB_CANCEL = "job.cancel"
JOB_NOTE = "job.note"  # opens the note form
JOB_LOG = "job.log"
TARGET_RUN = "target.run"  # object: a target name
TARGET_PRUNE = "target.prune"  # object: a target name
DRAFT_NEW = "draft.new"  # opens the draft form (object: a target, or "" to choose)
DRAFT_SUBMIT = "draft.submit"
DRAFT_PREFIX = "draft."
EXCLUDE_ADD = "exclude.add."  # + a preset id; object: `<target>` or `<target>/<MB>`
# The guided tour (D1); object: a step, 1 to 4 (Next shows it, Skip and Done end the tour).
TOUR_NEXT = "tour.next"
TOUR_SKIP = "tour.skip"
TOUR_DONE = "tour.done"
TOUR_PREFIX = "tour."

# The input typed beside a message's buttons (`Message.comment_label`), sent with the press.
COMMENT_INPUT = "comment"
MAX_COMMENT = 500  # a reason, not an essay: it is shown on the draft and in its alerts

# Decisions that take a reason: where a platform has forms but no input beside its buttons
# (Discord), the press opens the decision form first (core/commands/forms.py).
ASKS_A_REASON = frozenset(
    {f"{DRAFT_PREFIX}{Verdict.REJECT.value}", f"{DRAFT_PREFIX}{Verdict.CHANGES.value}"}
)

# Action name → form id (see core/commands/forms.py).
FORM_ACTIONS = {JOB_NOTE: "note", DRAFT_NEW: "draft"}


def command_for_action(
    name: str, object_id: str, version: int, comment: str = ""
) -> c.Command | None:
    """The command a press stands for, or None when the action is unknown or malformed.
    `comment` is what the presser typed beside the buttons, where the platform allows it."""
    if name == TARGET_RUN and object_id:
        return c.RunJob(object_id)
    if name == TARGET_PRUNE and object_id:
        return c.ShowPrunePreview(object_id)
    if name.startswith(EXCLUDE_ADD):
        return _exclusion(name.removeprefix(EXCLUDE_ADD), object_id)
    if name.startswith(TOUR_PREFIX):
        return _tour_command(name, object_id)
    number = record_id(object_id)
    if number is None:
        return None
    if name == JOB_RETRY:
        return c.RetryJob(number)
    if name == JOB_CANCEL:
        return c.CancelJob(number)
    if name == JOB_LOG:
        return c.ShowLogTail(number)
    if name == DRAFT_SUBMIT:
        return c.SubmitDraft(number)
    verdict = name.removeprefix(DRAFT_PREFIX)
    if name.startswith(DRAFT_PREFIX) and verdict in {v.value for v in Verdict}:
        return c.ReviewDraft(number, Verdict(verdict), comment=comment.strip(), version=version)
    return None


def exclusion_action(preset: str) -> str:
    """The action name of a preset's button (`exclude.add.logs`): one name per preset, since
    Slack wants the buttons of one block to have distinct action ids."""
    return f"{EXCLUDE_ADD}{preset}"


def exclusion_object(target: str, over_mb: int | None = None) -> str:
    """The object of a preset's button: the target, and the size for large media (`demo/250`)."""
    return target if over_mb is None else f"{target}/{over_mb}"


def _exclusion(preset: str, object_id: str) -> c.Command | None:
    target, slash, size = object_id.partition("/")
    if not preset or not target:
        return None
    if not slash:
        return c.AddExclusion(target, preset)
    over = whole_number(size)
    if over is None or not 1 <= over <= 1_000_000:
        return None
    return c.AddExclusion(target, preset, over)


def _tour_command(name: str, object_id: str) -> c.Command | None:
    step = step_number(object_id)
    if step is None:  # a step we never drew
        return None
    if name == TOUR_NEXT:
        return c.ShowTour(step)
    if name in (TOUR_SKIP, TOUR_DONE):
        return c.EndTour(finished=name == TOUR_DONE)
    return None


def parse_value(value: str) -> tuple[str, int] | None:
    """`"3:2"` → `("3", 2)`: the object and the version a button was drawn for."""
    object_id, _, version_text = value.partition(":")
    version = whole_number(version_text)
    if version is None:
        return None
    return object_id, version


@dataclass(frozen=True)
class Press:
    """A button press, read once from the platform's payload: the action, the object and the
    version the button was drawn for, and what the presser typed beside it (`comment`)."""

    action: str
    object_id: str
    version: int
    comment: str = ""

    @property
    def value(self) -> str:
        """`"3:2"`: the object and its version, as Slack's button `value` carries them."""
        return f"{self.object_id}:{self.version}"

    def encode(self) -> str:
        """`"draft.approve:3:2"`: the whole press in one string (a Discord `custom_id`, the
        decision form's context); the comment is never part of it."""
        return f"{self.action}:{self.value}"

    @classmethod
    def decode(cls, text: str) -> Press | None:
        """The press `encode` wrote, or None for anything else (no action, no version, a
        version that is not 1-12 digits). Read as it came, then its parts are cleaned."""
        action, _, value = text.partition(":")
        parsed = parse_value(value)
        if not action or parsed is None:
            return None
        object_id, version = parsed
        return cls(clean(action), clean(object_id), version)

    @classmethod
    def of(cls, action: str, value: str, comment: str = "") -> Press | None:
        """A press from its action name and `value` (`Press.value`), as a platform sends them
        apart; cleaned first, like all text from outside. None when `value` is not
        `<object>:<version>`."""
        action, value, comment = clean(action), clean(value), clean(comment)
        parsed = parse_value(value)
        if parsed is None:
            return None
        return cls(action, parsed[0], parsed[1], comment)

    def with_comment(self, comment: str) -> Press:
        return replace(self, comment=clean(comment))

    def command(self) -> c.Command | None:
        """The command this press stands for, or None (unknown action, malformed object)."""
        return command_for_action(self.action, self.object_id, self.version, self.comment)
