"""The messages of an `audit` export: started, building (with its count), ready, failed."""

from __future__ import annotations

from datetime import timedelta

from core.exports.spec import ExportSpec, StoredExport
from core.i18n import Translator
from core.views.message import Field, Message, Tone


def count(t: Translator, number: int) -> str:
    """A whole number with the locale's thousands separator (`40,000`, `40 000`)."""
    return t.number(number)


def _period(t: Translator, spec: ExportSpec) -> str:
    last = (spec.until - timedelta(microseconds=1)).date().isoformat()
    scope = spec.target or t.t("export.every_target")
    return t.t("export.period", since=spec.since.date().isoformat(), until=last, target=scope)


def _what(t: Translator, spec: ExportSpec, number: int = 2) -> str:
    """What the rows are, in words: `jobs`, or `job` for one."""
    one = ".one" if number == 1 else ""
    return t.t(f"export.what.{spec.what.value}{one}")


def started_message(t: Translator, spec: ExportSpec) -> Message:
    """The command's own answer: the export is under way, and where it will show."""
    text = t.t(
        "export.started",
        what=_what(t, spec),
        period=_period(t, spec),
        format=spec.fmt.value.upper(),
    )
    return Message(
        title=t.t("export.title"),
        status=t.t("export.status.started"),
        tone=Tone.INFO,
        sections=(text,),
        summary=text,
    )


def building_message(t: Translator, spec: ExportSpec, done: int, total: int) -> Message:
    line = t.t(
        "export.building",
        done=count(t, done),
        total=count(t, max(total, done)),
        what=_what(t, spec, max(total, done)),
    )
    return Message(
        title=t.t("export.title"),
        status=line,
        tone=Tone.INFO,
        field_separator=t.t("field.separator"),
        fields=(Field(t.t("export.field.period"), _period(t, spec)),),
        summary=line,
    )


def ready_message(
    t: Translator,
    spec: ExportSpec,
    export: StoredExport,
    link: str,
    *,
    attached: bool,
    refused: bool = False,
) -> Message:
    """The result: the link always; whether the file is attached, too large, or refused."""
    rows = t.t("export.rows", count=count(t, export.rows), what=_what(t, spec, export.rows))
    note = t.t(
        "export.not_attached" if refused else "export.attached" if attached else "export.link_only"
    )
    summary = t.t("export.ready_summary", rows=rows, size=t.size(export.size))
    return Message(
        title=t.t("export.title"),
        status=t.t("export.status.ready"),
        tone=Tone.SUCCESS,
        field_separator=t.t("field.separator"),
        fields=(
            Field(t.t("export.field.period"), _period(t, spec)),
            Field(t.t("export.field.rows"), rows),
            Field(t.t("export.field.file"), f"{export.filename} ({t.size(export.size)})"),
            Field(t.t("export.field.expires"), t.time(export.expires_at)),
            Field(t.t("export.field.download"), link),
        ),
        sections=(note,),
        summary=summary,
    )


def failed_message(t: Translator, spec: ExportSpec) -> Message:
    text = t.t("export.failed", what=_what(t, spec), period=_period(t, spec))
    return Message(
        title=t.t("export.title"),
        status=t.t("export.status.failed"),
        tone=Tone.DANGER,
        sections=(text,),
        summary=text,
        error_key="export.failed",
    )
