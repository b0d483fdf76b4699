"""The messages of `exclude` (D2): scanning, the previewed presets with their buttons, and the
answers to adding one."""

from __future__ import annotations

from collections.abc import Sequence

from core.commands.actions import exclusion_action, exclusion_object
from core.domain.capabilities import Capability
from core.exclusions.presets import DEFAULT_OVER_MB, LARGE_MEDIA, Preset
from core.exclusions.preview import PreviewResult
from core.i18n import Translator
from core.views.message import Action, Message, Tone


def started_message(t: Translator, target: str) -> Message:
    line = t.t("exclude.started", target=target)
    return Message(title=t.t("exclude.title", target=target), sections=(line,), summary=line)


def scanning_message(t: Translator, target: str, files: int) -> Message:
    line = t.t("exclude.scanning", target=target, count=files)
    return Message(
        title=t.t("exclude.title", target=target), status=line, tone=Tone.INFO, summary=line
    )


def result_message(
    t: Translator,
    target: str,
    table: Sequence[Preset],
    result: PreviewResult,
    present: frozenset[str],
    over_mb: int,
    prefix: str,
) -> Message:
    """One numbered line per preset with its patterns and what it would leave out; a button
    for each preset not already there."""
    if result.missing:
        line = t.t("exclude.missing", target=target)
        return Message(
            title=t.t("exclude.title", target=target),
            status=t.t("exclude.status.missing"),
            tone=Tone.WARNING,
            sections=(line,),
            summary=line,
        )
    bound = "" if result.complete else t.t("exclude.at_least") + " "
    lines = []
    for number, preset in enumerate(table, 1):
        tally = result.tallies[preset.id]
        if preset.id in present:
            effect = t.t("exclude.already_there")
        else:
            effect = t.t(
                "exclude.would_exclude", bound=bound, count=tally.files, size=t.size(tally.bytes)
            )
        lines.append(
            t.t(
                "exclude.line",
                number=number,
                preset=preset.id,
                description=t.t(preset.summary_key, mb=over_mb),
                patterns=" ".join(f"`{e}`" for e in preset.entries),
                effect=effect,
            )
        )
    notes = [
        t.t(
            "exclude.scanned",
            bound=bound,
            count=result.files_seen,
            size=t.size(result.bytes_seen),
        )
    ]
    if not result.complete:
        notes.append(t.t("exclude.cut_short"))
    if result.skipped_dirs:
        notes.append(t.t("exclude.skipped", count=result.skipped_dirs))
    notes.append(t.t("exclude.how_to_add", prefix=prefix, target=target))
    over = None if over_mb == DEFAULT_OVER_MB else over_mb
    actions = tuple(
        Action(
            t.t("exclude.button", preset=p.id),
            exclusion_action(p.id),
            exclusion_object(target, over if p.id == LARGE_MEDIA else None),
            0,
            Capability.DRAFT,
            accessibility_label=t.t("exclude.button_label", preset=p.id, target=target),
        )
        for p in table
        if p.id not in present
    )
    status = t.t("exclude.status.done" if result.complete else "exclude.status.partial")
    summary = t.t("exclude.summary", target=target, count=len(table))
    return Message(
        title=t.t("exclude.title", target=target),
        status=status,
        tone=Tone.SUCCESS if result.complete else Tone.WARNING,
        sections=("\n".join(lines), "\n".join(notes)),
        actions=actions,
        summary=summary,
    )


def failed_message(t: Translator, target: str) -> Message:
    line = t.t("exclude.failed", target=target)
    return Message(
        title=t.t("exclude.title", target=target),
        status=t.t("exclude.status.failed"),
        tone=Tone.DANGER,
        sections=(line,),
        summary=line,
    )
