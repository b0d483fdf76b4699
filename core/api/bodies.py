"""The bodies of the job-event API, checked strictly: unknown fields and wrong types refused.

Each operation's fields are declared once here; the OpenAPI document (core/api/openapi.py) is
written from the same declarations, so the two cannot disagree.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from core.api.problems import ApiProblem

RID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
SHA256_HEX = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")
MAX_BODY_BYTES = 1024 * 1024  # 1 MiB; a longer body is refused with 413
LOG_TAIL_MAX = 100 * 1024  # characters kept of a log tail (its end)
MAX_INT = 2**63 - 1
STATES = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class FieldSpec:
    """A JSON field: its JSON Schema, and the words naming it in a refusal."""

    schema: dict[str, Any]
    description: str


def _int(minimum: int, maximum: int, description: str) -> FieldSpec:
    return FieldSpec({"type": "integer", "minimum": minimum, "maximum": maximum}, description)


def _str(max_length: int, description: str, **extra: Any) -> FieldSpec:
    return FieldSpec({"type": "string", "maxLength": max_length, **extra}, description)


RID_FIELD = _str(
    64, "A client run id (idempotency): letters, digits, `.`, `_`, `:` or `-`",
    minLength=1, pattern=f"^{RID.pattern}$",
)  # fmt: skip
START_FIELDS: dict[str, FieldSpec] = {
    "rid": RID_FIELD,
    "host": _str(255, "The host the run happens on"),
    "command": _str(2000, "The command run (shown to people; redacted)"),
}
PROGRESS_FIELDS: dict[str, FieldSpec] = {
    "bytes": _int(0, MAX_INT, "Bytes written so far"),
    "files": _int(0, MAX_INT, "Files written so far"),
    "percent": FieldSpec({"type": "number", "minimum": 0, "maximum": 100}, "Percent done"),
}
FINISH_FIELDS: dict[str, FieldSpec] = {
    "exit_status": _int(-255, 255, "The command's exit status: 0 succeeded, anything else failed"),
    "state": FieldSpec({"type": "string", "enum": list(STATES)}, "The end state, in words"),
    "duration": FieldSpec(
        {"type": "number", "minimum": 0, "maximum": 31_622_400}, "Seconds the run took"
    ),
    "size": _int(0, MAX_INT, "Bytes of the archive written"),
    "files": _int(0, MAX_INT, "Files in the archive"),
    "checksum": _str(
        71,
        "SHA-256 of the archive, hex (optionally `sha256:` first)",
        pattern="^(sha256:)?[0-9a-fA-F]{64}$",
    ),
    "archive": _str(2000, "Where the archive is (path or URL; redacted)"),
    "log_tail": _str(LOG_TAIL_MAX, "The end of the run's output (redacted; at most 100 KiB)"),
}
REPORT_FIELDS: dict[str, FieldSpec] = {**START_FIELDS, **FINISH_FIELDS}


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; an empty body is an empty object."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ApiProblem("malformed", "the body is not valid JSON (UTF-8)") from None
    if not isinstance(value, dict):
        raise ApiProblem("invalid-body", "the body must be a JSON object")
    return value


def check(values: dict[str, Any], fields: dict[str, FieldSpec]) -> dict[str, Any]:
    """`values` if every field is known and well typed, else the problem naming the first wrong
    one (with the fields allowed when it is unknown)."""
    for name, value in values.items():
        spec = fields.get(name)
        if spec is None:
            allowed = ", ".join(fields)
            shown = name[:40]
            raise ApiProblem("invalid-body", f"unknown field {shown!r}; allowed: {allowed}")
        _check_value(name, value, spec.schema)
    return values


def _check_value(name: str, value: Any, schema: dict[str, Any]) -> None:
    kind = schema.get("type")
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiProblem("invalid-body", f"{name} must be a whole number")
        _in_range(name, value, schema)
    elif kind == "number":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ApiProblem("invalid-body", f"{name} must be a number")
        _in_range(name, value, schema)
    elif "enum" in schema:
        if value not in schema["enum"]:
            raise ApiProblem("invalid-body", f"{name} must be one of {', '.join(schema['enum'])}")
    elif kind == "string":
        if not isinstance(value, str):
            raise ApiProblem("invalid-body", f"{name} must be a string")
        if len(value) > schema["maxLength"] or len(value) < schema.get("minLength", 0):
            raise ApiProblem(
                "invalid-body", f"{name} must be at most {schema['maxLength']} characters"
            )
        pattern = schema.get("pattern")
        if pattern is not None and re.fullmatch(pattern.strip("^$"), value) is None:
            raise ApiProblem("invalid-body", f"{name} is not in the expected form")


def _in_range(name: str, value: float, schema: dict[str, Any]) -> None:
    if not schema["minimum"] <= value <= schema["maximum"]:
        raise ApiProblem(
            "invalid-body", f"{name} must be between {schema['minimum']} and {schema['maximum']}"
        )


def end_state(values: dict[str, Any]) -> tuple[str, int | None]:
    """(state, exit status): exactly one of `exit_status` and `state` is given."""
    exit_status = values.get("exit_status")
    state = values.get("state")
    if (exit_status is None) == (state is None):
        raise ApiProblem("invalid-body", "give exactly one of exit_status and state")
    if exit_status is not None:
        return ("succeeded" if exit_status == 0 else "failed"), exit_status
    return str(state), None


def checksum_hex(value: str | None) -> str | None:
    if value is None:
        return None
    match = SHA256_HEX.fullmatch(value)
    return match.group(1).lower() if match else None
