"""The OpenAPI 3.1 document served at `GET /api/v1/openapi.json`, written from the same field
declarations the server checks bodies with (core/api/bodies.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

from core.api.bodies import MAX_BODY_BYTES, RID_FIELD, FieldSpec
from core.api.problems import CONTENT_TYPE, PROBLEMS
from core.api.service import FIELDS, Operation
from core.api.signature import KEY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

TARGET_PARAMETER = {
    "name": "target",
    "in": "path",
    "required": True,
    "description": "The target's name",
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}
RID_PARAMETER = {
    "name": "rid",
    "in": "path",
    "required": True,
    "description": "The run id the start returned (or the client sent)",
    "schema": RID_FIELD.schema,
}
# All three headers together (one requirement object: AND).
SECURITY: list[dict[str, list[str]]] = [{"key": [], "timestamp": [], "signature": []}]


def _body_schema(fields: dict[str, FieldSpec]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            name: {**spec.schema, "description": spec.description} for name, spec in fields.items()
        },
    }


# Sent with every response of the bot (bot/app.py): documented so clients may rely on them.
RESPONSE_HEADERS = {
    "Content-Security-Policy": "What a browser may load, were the answer shown in one",
    "X-Content-Type-Options": "Always nosniff",
    "Referrer-Policy": "Always no-referrer",
}
HEADER_REFS = {name: {"$ref": f"#/components/headers/{name}"} for name in RESPONSE_HEADERS}


def _problem(slugs: tuple[str, ...]) -> dict[str, Any]:
    titles = "; ".join(PROBLEMS[slug][1] for slug in slugs)
    return {
        "description": titles,
        "headers": HEADER_REFS,
        "content": {CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _operation(
    operation: Operation, summary: str, success: int, parameters: list[dict[str, Any]]
) -> dict[str, Any]:
    name = operation.value.capitalize()
    responses: dict[str, Any] = {
        str(success): {
            "description": "Accepted",
            "headers": HEADER_REFS,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}},
        },
        "400": _problem(("malformed",)),
        "401": _problem(("unsigned", "bad-signature", "stale", "revoked")),
        "403": _problem(("forbidden-target",)),
        "404": _problem(("unknown-target", "unknown-run")),
        "409": _problem(("not-reported", "replayed", "target-busy", "run-ended")),
        "413": _problem(("too-large",)),
        "422": _problem(("invalid-body",)),
        "503": _problem(("unavailable",)),
    }
    return {
        "operationId": operation.value,
        "summary": summary,
        "parameters": parameters,
        "security": SECURITY,
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{name}Body"}}
            },
        },
        "responses": responses,
    }


@cache
def openapi_document() -> dict[str, Any]:
    target = [TARGET_PARAMETER]
    run = [TARGET_PARAMETER, RID_PARAMETER]
    schemas: dict[str, Any] = {
        f"{op.value.capitalize()}Body": _body_schema(fields) for op, fields in FIELDS.items()
    }
    schemas["Run"] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["job", "rid", "target", "state"],
        "properties": {
            "job": {"type": "integer", "description": "The job's number (#N in chat)"},
            "rid": RID_FIELD.schema,
            "target": {"type": "string"},
            "state": {
                "type": "string",
                "enum": ["running", "succeeded", "failed", "cancelled"],
            },
        },
    }
    schemas["Problem"] = {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
        },
    }
    header = "header"
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "exportbot job-event API",
            "version": "1",
            "description": (
                "Report backup and export runs made by other tools. Every call is signed: "
                f"`{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256(<printed key>, "
                '"<timestamp>.<body>")>` with the key printed by `exportbot api-key create`; '
                f"bodies are JSON objects of at most {MAX_BODY_BYTES} bytes; errors are RFC 9457 "
                "problem documents."
            ),
        },
        "paths": {
            "/api/v1/targets/{target}/runs": {
                "post": _operation(Operation.START, "Start a run", 201, target)
            },
            "/api/v1/targets/{target}/runs/{rid}/progress": {
                "post": _operation(Operation.PROGRESS, "Tell a run's progress", 200, run)
            },
            "/api/v1/targets/{target}/runs/{rid}/finish": {
                "post": _operation(Operation.FINISH, "End a run", 200, run)
            },
            "/api/v1/targets/{target}/report": {
                "post": _operation(Operation.REPORT, "Report a whole run at its end", 201, target)
            },
        },
        "components": {
            "schemas": schemas,
            "headers": {
                name: {"description": text, "required": True, "schema": {"type": "string"}}
                for name, text in RESPONSE_HEADERS.items()
            },
            "securitySchemes": {
                "key": {
                    "type": "apiKey",
                    "in": header,
                    "name": KEY_HEADER,
                    "description": "The key's name (the part before the dot)",
                },
                "timestamp": {
                    "type": "apiKey",
                    "in": header,
                    "name": TIMESTAMP_HEADER,
                    "description": "Unix seconds; 5 minutes either side of the server",
                },
                "signature": {
                    "type": "apiKey",
                    "in": header,
                    "name": SIGNATURE_HEADER,
                    "description": 'sha256=<hex HMAC-SHA256(key, "<timestamp>.<body>")>',
                },
            },
        },
    }
