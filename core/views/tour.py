"""The guided tour's messages (D1): the offer after a newcomer's first answer, four short
steps, and the line that ends it. Each carries Next / Skip buttons (numbered replies in the
console); examples use the platform's own prefix (`/export ` on Slack, "" in the console)."""

from __future__ import annotations

from core.commands.actions import TOUR_DONE, TOUR_NEXT, TOUR_SKIP
from core.domain.capabilities import Capability
from core.domain.tour import STEPS
from core.i18n import Translator
from core.views.message import Action, Message, Tone


def _button(t: Translator, label_key: str, action: str, step: int, style: Tone) -> Action:
    label = t.t(label_key)
    return Action(label, action, str(step), 0, Capability.VIEW, label, style)


def tour_offer(t: Translator, prefix: str) -> Message:
    """Said once to a principal, after the answer to their first command."""
    text = t.t("tour.offer", steps=STEPS, prefix=prefix)
    return Message(
        title=t.t("tour.offer_title"),
        tone=Tone.INFO,
        sections=(text,),
        actions=(
            _button(t, "tour.start", TOUR_NEXT, 1, Tone.SUCCESS),
            _button(t, "tour.skip", TOUR_SKIP, 1, Tone.NEUTRAL),
        ),
        summary=text,
    )


def tour_step(t: Translator, prefix: str, step: int) -> Message:
    """Step `step` (1 to STEPS): a short text, then Next (Done on the last) and Skip."""
    text = t.t(f"tour.step{step}", prefix=prefix)
    last = step >= STEPS
    forward = (
        _button(t, "tour.done", TOUR_DONE, step, Tone.SUCCESS)
        if last
        else _button(t, "tour.next", TOUR_NEXT, step + 1, Tone.SUCCESS)
    )
    skip = _button(t, "tour.skip", TOUR_SKIP, step, Tone.NEUTRAL)
    return Message(
        title=t.t(f"tour.step{step}_title"),
        status=t.t("tour.progress", step=step, steps=STEPS),
        tone=Tone.INFO,
        sections=(text,),
        actions=(forward,) if last else (forward, skip),
        summary=text,
    )


def tour_ended(t: Translator, prefix: str, *, finished: bool) -> Message:
    key = "tour.finished" if finished else "tour.skipped"
    text = t.t(key, prefix=prefix)
    return Message(title=t.t(f"{key}_title"), tone=Tone.INFO, sections=(text,), summary=text)
