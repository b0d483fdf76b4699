"""Structured logs (H4): one line per record, text for people or JSON for collectors."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from core.safety.redaction import redact

_ESCAPED = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F) if chr(c) != "\t"} | {
    ord("\n"): "\\n",
    ord("\r"): "\\r",
}
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


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


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SQLAlchemy and aiohttp are chatty at INFO; their warnings still come through.
    for noisy in ("sqlalchemy", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
