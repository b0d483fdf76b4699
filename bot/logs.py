"""Structured logs (H4): one line per record, text for people or JSON for collectors.

Each line carries, as fields, the job, target, platform, workspace and request it is about
(core/support/log_context.py binds them where work enters; `LogContext` copies them onto the
record). The standard library with `contextvars`, not structlog: the lines of aiohttp, Bolt,
SQLAlchemy and the runners' threads go through the same handler and get the same fields with
no second logging system to configure, and the JSON formatter was already here.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

from core.safety.redaction import redact
from core.support.log_context import FIELDS, current

_ESCAPED = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if chr(c) != "\t"} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
}
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class LogContext(logging.Filter):
    """Copy the context's fields onto the record (a field given in `extra=` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class RedactSecrets(logging.Filter):
    """The last net under G3: what a library or a traceback quotes (a URL with its token, a
    command line, a stderr tail) is redacted before the line is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        # One line per record: a line break or an escape sequence someone sent us is shown
        # escaped, so it can neither forge a record nor drive the reader's terminal.
        redacted = redact(message).translate(_ESCAPED)
        if redacted != message:
            record.msg, record.args = redacted, None
        # The fields too (the context's and `extra=`): the JSON line writes them all.
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value).translate(_ESCAPED))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            payload["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class TextFormatter(logging.Formatter):
    """People's lines, with the context's fields after the message: `[job_id=3 target=site]`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        fields = [f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name)]
        return f"{line} [{' '.join(fields)}]" if fields else line


def configure_logging(level: str = "INFO", fmt: str = "text", stream: TextIO | None = None) -> None:
    """Every line to `stream` (stderr), in `fmt`, with its context's fields, redacted."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(LogContext())  # first: the redaction sees the fields too
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SQLAlchemy and aiohttp are chatty at INFO; their warnings still come through.
    for noisy in ("sqlalchemy", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
