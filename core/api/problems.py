"""RFC 9457 problem documents: every refusal of the job-event API is one of these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PROBLEM_TYPE_BASE = "/api/v1/problems/"
CONTENT_TYPE = "application/problem+json"

# slug → (status, title). The slug is the end of the problem's `type`.
PROBLEMS: dict[str, tuple[int, str]] = {
    "malformed": (400, "The body is not valid JSON"),
    "invalid-body": (422, "The body does not match the operation's schema"),
    "unsigned": (401, "The request is not signed"),
    "bad-signature": (401, "The signature does not match"),
    "stale": (401, "The timestamp is outside the 5-minute window"),
    "revoked": (401, "This API key was revoked"),
    "forbidden-target": (403, "This API key may not report this target"),
    "unknown-target": (404, "No such target"),
    "unknown-run": (404, "No such run"),
    "not-reported": (409, "This target is run by exportbot itself"),
    "replayed": (409, "This event was already received"),
    "target-busy": (409, "The target already has a run under way"),
    "run-ended": (409, "This run has already ended"),
    "too-large": (413, "The body is larger than the API accepts"),
    "unavailable": (503, "The server cannot handle API calls now"),
}


@dataclass
class ApiProblem(Exception):
    """A refused call: nothing was changed."""

    slug: str
    detail: str

    @property
    def status(self) -> int:
        return PROBLEMS[self.slug][0]

    def document(self) -> dict[str, Any]:
        status, title = PROBLEMS[self.slug]
        return {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": title,
            "status": status,
            "detail": self.detail,
        }
