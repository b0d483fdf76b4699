"""Buttons, platform-free: what each action name does, and the command a press becomes.

A button carries `(name, object id, version)`; every adapter hands those three back here and
the core decides (ARCHITECTURE.md, flow 2). Actions that need more input than a press open a
form instead (`FORM_ACTIONS`); the adapter shows it as a modal or card inputs.
"""

from __future__ import annotations

from core.commands import model as c
from core.commands.numbers import record_id, whole_number
from core.domain.schedules import Verdict

JOB_RETRY = "job.retry"
JOB_CANCEL = "job.cancel"
JOB_NOTE = "job.note"  # opens the note form
JOB_LOG = "job.log"
TARGET_RUN = "target.run"  # object: a target name
TARGET_PRUNE = "target.prune"  # object: a target name
DRAFT_NEW = "draft.new"  # opens the draft form (object: a target, or "" to choose)
DRAFT_SUBMIT = "draft.submit"
DRAFT_PREFIX = "draft."

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


def parse_value(value: str) -> tuple[str, int] | None:
    """`"3:2"` → `("3", 2)`: the object and the version a button was drawn for."""
    object_id, _, version_text = value.partition(":")
    version = whole_number(version_text)
    if version is None:
        return None
    return object_id, version
