"""What pressing a button on a bot's message means for the message (A1, E2).

The core answers the press; this says where the answer goes. A refusal (missing capability,
own draft, stale version) is for the presser only and leaves the card as everyone sees it; a
press that started another job (Retry) gets that job's card as a new message, the old card
staying; any other accepted decision replaces the card for everyone. The adapter only renders
the reply and sends it as its disposition says.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from core.app.service import CommandService
from core.commands.actions import ASKS_A_REASON, FORM_ACTIONS, Press
from core.commands.forms import FormRef
from core.domain.model import Actor
from core.views.message import Message


class Disposition(Enum):
    PRIVATE = "private"  # to the presser only; the pressed message stays as it was
    REPLACE = "replace"  # the pressed message redrawn, for everyone
    NEW_MESSAGE = "new message"  # a message of its own; the pressed one stays


@dataclass(frozen=True)
class PressReply:
    message: Message
    disposition: Disposition


def form_instead(action: str, object_id: str) -> FormRef | None:
    """The form a press opens instead of acting, if it does: a button drawn without its form
    ("New draft", an older card's "Add note"); `object_id` is what the button was bound to."""
    form_id = FORM_ACTIONS.get(action)
    return FormRef(form_id, object_id) if form_id is not None else None


def reason_form(pressed: Press) -> FormRef | None:
    """On a platform whose cards hold no comment box (Discord), the form a decision that asks
    a reason (reject, request changes) opens to ask it."""
    return FormRef.decision(pressed) if pressed.action in ASKS_A_REASON else None


def disposition(message: Message, pressed: str, *, on_message: bool = True) -> Disposition:
    """Where the answer `message` to a press on the object `pressed` (the id the button was
    bound to) goes. A press made on no message (an app's home tab, a modal) can only be
    answered privately."""
    if message.ephemeral or not on_message:
        return Disposition.PRIVATE
    if message.job_id is not None and str(message.job_id) != pressed:
        return Disposition.NEW_MESSAGE
    return Disposition.REPLACE


async def press(
    service: CommandService,
    action: str,
    value: str,
    actor: Actor,
    *,
    prefix: str,
    comment: str = "",
    message: str = "",
    once: str = "",
    on_message: bool = True,
) -> PressReply:
    """Run the press of the button `action` bound to `value` (`"<object>:<version>"`), and
    say where its answer goes. `message` names the pressed message (`"<channel>:<id>"`) for
    the audit log; `once` is the platform's request key (a replay acts once). A value no
    button of ours carries is refused, for the presser only."""
    pressed = Press.of(action, value, comment)
    if pressed is None:  # not a value we drew: refused, and the log says who tried it
        answer = await service.refuse_action(action, value, actor, prefix=prefix)
        return PressReply(answer, disposition(answer, "", on_message=on_message))
    return await answer_press(
        service, pressed, actor, prefix=prefix, message=message, once=once, on_message=on_message
    )


async def answer_press(
    service: CommandService,
    pressed: Press,
    actor: Actor,
    *,
    prefix: str,
    message: str = "",
    once: str = "",
    on_message: bool = True,
) -> PressReply:
    """Run a press the adapter's codec already read, and say where its answer goes."""
    answer = await service.execute_action(pressed, actor, prefix=prefix, message=message, once=once)
    return PressReply(answer, disposition(answer, pressed.object_id, on_message=on_message))
