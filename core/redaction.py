"""Secrets out of text that came from jobs (G3): stderr tails, paths, URLs.

Applied before job text is stored, logged or shown, so a token a failing tool printed never
reaches a chat channel. What is removed is replaced by `[redacted]`; the rest stays readable.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_TOKENS = re.compile(
    r"xox[abposr]-[A-Za-z0-9-]{8,}"  # Slack tokens
    r"|xapp-[A-Za-z0-9-]{8,}"  # Slack app-level tokens
    r"|gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub tokens
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|AKIA[0-9A-Z]{16}"  # AWS access key ids
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_KEY_VALUE = re.compile(
    r"(?i)\b([A-Za-z0-9_]*(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key))"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&;,]+)"
)
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@")
_URL_SECRET_PARAM = re.compile(
    r"(?i)([?&](?:access_token|token|key|api_key|sig|signature|password|secret|x-amz-signature)=)"
    r"[^&#\s]+"
)


def redact(text: str | None) -> str:
    """`text` without tokens, passwords and secrets in URLs (None gives "")."""
    if not text:
        return ""
    text = _TOKENS.sub(REDACTED, text)
    text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{m.group(2)}:{REDACTED}@", text)
    text = _URL_SECRET_PARAM.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
