"""The client side of the job-event API (ARCHITECTURE.md, public contract): the printed key,
the signature, and the two calls `exportbot report` makes.

Standard library only, and synchronous: the wrapper runs beside a backup command in cron, and
must stay small and predictable. Every call has a short deadline and a few tries; a server that
is down or refuses is *told* (on stderr, by the caller), never a reason to stop the backup.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

KEY_HEADER = "X-Exportbot-Key"
TIMESTAMP_HEADER = "X-Exportbot-Timestamp"
SIGNATURE_HEADER = "X-Exportbot-Signature"
TAIL_LIMIT = 100_000  # bytes of output sent at the end: the API keeps a tail up to 100 KB
HOST_LIMIT, COMMAND_LIMIT = 255, 2000  # characters the API accepts (longer is refused)


class BadApiKey(ValueError):
    """The key text is not `<name>.<secret>`."""


@dataclass(frozen=True)
class ApiKey:
    """The key as printed by `exportbot api-key create`: `<name>.<secret>`."""

    printed: str

    @property
    def name(self) -> str:
        return self.printed.partition(".")[0]

    @classmethod
    def parse(cls, text: str) -> ApiKey:
        printed = text.strip()
        name, dot, secret = printed.partition(".")
        if not name or not dot or not secret or any(c.isspace() for c in printed):
            raise BadApiKey(
                "the API key is not '<name>.<secret>' as `exportbot api-key create` printed it"
            )
        return cls(printed)


def signature(key: ApiKey, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 keyed with the whole printed key over `<timestamp>.<body>`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(key.printed.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(key: ApiKey, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        KEY_HEADER: key.name,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(key, timestamp, body),
    }


@dataclass(frozen=True)
class Outcome:
    """How a call ended: `ok`, or why not, in words for stderr."""

    ok: bool
    status: int | None = None  # the HTTP status, when the server answered
    reason: str = ""

    @property
    def final(self) -> bool:
        """A refusal (4xx) will not change by trying again; a network error or 5xx may."""
        return self.ok or (self.status is not None and 400 <= self.status < 500)


@dataclass(frozen=True)
class RetryPolicy:
    """A few tries within `budget_seconds` in all, each at most `timeout_seconds`."""

    attempts: int = 3
    budget_seconds: float = 5.0
    timeout_seconds: float = 1.5
    pause_seconds: float = 0.3


START_POLICY = RetryPolicy()  # the wrapped command waits for this: keep it short
FINISH_POLICY = RetryPolicy(attempts=4, budget_seconds=10.0, timeout_seconds=2.5)


class ReportClient:
    def __init__(
        self,
        base_url: str,
        key: ApiKey,
        target: str,
        *,
        now: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._key = key
        self._target = target
        self._now = now
        self._monotonic = monotonic
        self._sleep = sleep

    def runs_url(self, rid: str | None = None, event: str = "") -> str:
        url = f"{self._base}/api/v1/targets/{_quoted(self._target)}/runs"
        if rid is not None:
            url += f"/{_quoted(rid)}"
        return url + (f"/{event}" if event else "")

    def start(self, rid: str, host: str, command: str) -> Outcome:
        body = {"rid": rid, "host": host[:HOST_LIMIT], "command": _cut(command)}
        return self.post(self.runs_url(), body, START_POLICY)

    def finish(self, rid: str, exit_status: int, duration: float, log_tail: str) -> Outcome:
        body = {"exit_status": exit_status, "duration": round(duration, 3), "log_tail": log_tail}
        return self.post(self.runs_url(rid, "finish"), body, FINISH_POLICY)

    def report(
        self, rid: str, host: str, command: str, exit_status: int, duration: float, log_tail: str
    ) -> Outcome:
        """The one-shot call, when the start could not be said: the whole run at its end."""
        body = {
            "rid": rid,
            "host": host[:HOST_LIMIT],
            "command": _cut(command),
            "exit_status": exit_status,
            "duration": round(duration, 3),
            "log_tail": log_tail,
        }
        url = f"{self._base}/api/v1/targets/{_quoted(self._target)}/report"
        return self.post(url, body, FINISH_POLICY)

    def post(self, url: str, body: Mapping[str, Any], policy: RetryPolicy) -> Outcome:
        """POST `body` signed, trying again on network errors and 5xx within the policy."""
        # ASCII JSON: an argument that is not text (a lone surrogate) travels escaped.
        data = json.dumps(body, separators=(",", ":")).encode()
        deadline = self._monotonic() + policy.budget_seconds
        outcome = Outcome(False, reason="not tried")
        for attempt in range(policy.attempts):
            left = deadline - self._monotonic()
            if left <= 0:
                break
            outcome = self._post_once(url, data, min(policy.timeout_seconds, left))
            if outcome.final or attempt == policy.attempts - 1:
                break
            pause = min(policy.pause_seconds * (2**attempt), deadline - self._monotonic())
            if pause > 0:
                self._sleep(pause)
        return outcome

    def _post_once(self, url: str, data: bytes, timeout: float) -> Outcome:
        headers = signed_headers(self._key, int(self._now()), data)
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Outcome(True, response.status)
        except urllib.error.HTTPError as error:
            return Outcome(False, error.code, _problem(error))
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            return Outcome(False, None, str(reason))


def _cut(command: str) -> str:
    """A long command line keeps its beginning, marked as cut."""
    if len(command) <= COMMAND_LIMIT:
        return command
    return command[: COMMAND_LIMIT - 1] + "…"


def _quoted(part: str) -> str:
    """One path segment; what argv could not decode keeps its original bytes."""
    try:
        raw = part.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that stood for no byte
        raw = part.encode("utf-8", "surrogatepass")
    return urllib.parse.quote(raw, safe="")


def _problem(error: urllib.error.HTTPError) -> str:
    """The RFC 9457 problem's title and detail, else the status line."""
    try:
        problem = json.loads(error.read(4096) or b"{}")
    except (ValueError, OSError):
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    words = [str(problem[k]) for k in ("title", "detail") if problem.get(k)]
    return f"{error.code} " + (": ".join(words) if words else str(error.reason))
