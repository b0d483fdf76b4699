"""Secrets out of text that came from jobs, tools and people (G3): error tails, paths, URLs.

Applied before such text is stored, logged or shown, so a token a failing tool printed never
reaches a chat channel, the audit log or an export. What is removed is replaced by
`[redacted]`; the rest stays readable. Provider token formats come from detect-secrets
(`core.safety.secret_shapes`); the rules here cover what it lacks or gets wrong for us: secrets
named by their key, flag or header, passwords in URLs, private key blocks, and home
directories, whose prefix becomes `~` (`/home/alice/.ssh/id_rsa` → `~/.ssh/id_rsa`) so the path
still says where to look without naming anyone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from core.safety.secret_shapes import replace_provider_tokens

REDACTED = "[redacted]"


@dataclass(frozen=True)
class _Rule:
    """A pattern, its replacement, and the words (lower case) one of which a text must hold
    for the pattern to be tried: most text holds none, and a substring test costs little."""

    needs: tuple[str, ...]
    pattern: re.Pattern[str]
    replace: Callable[[re.Match[str]], str]


_SECRET_WORDS = r"password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key"
_VALUE = r"\"[^\"\n]*\"|'[^'\n]*'|[^\s&;,\"']+"


def _keep_groups(*kept: int) -> Callable[[re.Match[str]], str]:
    """A replacement that keeps the groups `kept` (names, separators) and redacts the rest."""

    def replace(match: re.Match[str]) -> str:
        return "".join(match.group(g) or "" for g in kept) + REDACTED

    return replace


def _whole(_: re.Match[str]) -> str:
    return REDACTED


def _aws_pair(match: re.Match[str]) -> str:
    return f"{REDACTED}{match.group(1)}{REDACTED}"


def _url_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match.group(2).partition(":")
    if colon:
        return f"{match.group(1)}{user}:{REDACTED}@"
    # A lone user part is a name (`git@`) unless it is long enough to be a token.
    return match.group(0) if len(user) < 16 else f"{match.group(1)}{REDACTED}@"


# Order matters: blocks and pairs before their parts, named secrets before bare tokens.
_RULES: tuple[_Rule, ...] = (
    # A whole private key block; a stderr tail may hold only its end, or only its start.
    _Rule(
        ("private key",),
        re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?"
            r"(?:-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|$)"
            r"|(?:^|(?<=\s))(?:[A-Za-z0-9+/=]{16,}\s+)+"
            r"-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----"
        ),
        _whole,
    ),
    # Userinfo runs to the last "@" before the host: a password may hold "@" itself.
    _Rule(
        ("://",),
        re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^\s/?#@]*(?:@[^\s/?#@]*)*)@(?=[^\s/?#@]+)"),
        _url_userinfo,
    ),
    _Rule(
        ("=",),
        re.compile(
            r"(?i)([?&;](?:access_token|token|key|api_key|apikey|sig|signature|password|secret"
            r"|client_secret|x-amz-signature|x-amz-credential)=)[^&#\s]+"
        ),
        _keep_groups(1),
    ),
    # An AWS secret key beside its key id (a credentials CSV, `aws configure list`).
    _Rule(
        ("akia", "asia", "abia", "acca", "a3t"),
        re.compile(
            r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}([\s,;:|\"'=]+)"
            r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        _aws_pair,
    ),
    _Rule(
        ("access",),
        re.compile(
            r"(?i)(secret[_-]?access[_-]?key[\"']?[\s=:\"']*)"
            r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        _keep_groups(1),
    ),
    # Authorization headers, whatever the scheme (Bearer, Basic, Token, …): the scheme stays.
    _Rule(
        ("authorization",),
        re.compile(
            r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
            r"((?:bearer|basic|token|apikey|sso-key|key)\s+)?[^\s\"',;]+"
        ),
        _keep_groups(1, 2),
    ),
    _Rule(
        ("bearer", "basic"),
        re.compile(r"(?i)\b(bearer|basic)\s+(?!\[redacted\])[A-Za-z0-9._~+/=-]{8,}"),
        _keep_groups(1),
    ),
    # `--password hunter3`, `--client-secret x`; not `--password-stdin` nor `--token-file f`.
    _Rule(
        ("--",),
        re.compile(rf"(?i)(--[\w-]*(?:{_SECRET_WORDS}))(=|[ \t]+)(?!-|\[redacted\])({_VALUE})"),
        _keep_groups(1, 2),
    ),
    # `-p` is a password only for these tools (elsewhere a port, or mkdir's parents).
    _Rule(
        ("mysql", "mariadb", "sshpass"),
        re.compile(
            r"\b((?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mysqlimport|sshpass)\b"
            rf"[^\n]*?[ \t]-p[ \t]?)(?!-|\[redacted\])({_VALUE})"
        ),
        _keep_groups(1),
    ),
    # `PGPASSWORD=x`, `db.password: x`, `"api_key": "x"`.
    _Rule(
        ("pass", "pwd", "secret", "token", "key"),
        re.compile(rf"(?i)((?:{_SECRET_WORDS})[\"']?\s*[=:]\s*)(?!\[redacted\])({_VALUE})"),
        _keep_groups(1),
    ),
    # Tokens detect-secrets does not know (or knows too narrowly).
    _Rule(
        (
            *("xox", "xapp-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-"),
            *("npm_", "pypi-", "aiza", "k_live_", "k_test_", "sk-", "eyj", "hvs.", "hvb."),
            "/api/webhooks/",
        ),
        re.compile(
            r"xox[abposre]-[A-Za-z0-9-]{8,}"  # Slack
            r"|xapp-[A-Za-z0-9-]{8,}"
            r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
            r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
            r"|npm_[A-Za-z0-9]{36}"  # npm
            r"|pypi-[A-Za-z0-9_-]{50,}"  # PyPI
            r"|AIza[0-9A-Za-z_-]{35}"  # Google
            r"|\b[rsp]k_(?:live|test)_[0-9A-Za-z]{10,}"  # Stripe
            r"|\bsk-(?:proj-|ant-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"  # OpenAI, Anthropic
            r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
            r"|\bhv[sb]\.[A-Za-z0-9_-]{20,}"  # HashiCorp Vault
            r"|(?<=/api/webhooks/)[0-9]{5,}/[A-Za-z0-9_-]{20,}"  # Discord webhook URLs
        ),
        _whole,
    ),
)

# Home directories name their owner; `/root` is one too. Not inside a URL's path.
_HOME_NEEDS = ("/home/", "/users/", "/root", "\\users\\")
_HOME = re.compile(
    r"(?<![\w.~%-])(?:/home/[^/\s\"':]+|/Users/[^/\s\"':]+|/root(?=[/\s\"':]|$))(?P<sep>/)?"
    r"|(?i:\b[a-z]:[\\/]Users[\\/][^\\/\s\"':]+)(?P<wsep>[\\/])?"
)


def _home_prefix(match: re.Match[str]) -> str:
    return "~" + (match.group("sep") or match.group("wsep") or "")


def redact(text: str | None) -> str:
    """`text` without tokens, passwords, secrets in URLs and home owners (None gives "")."""
    if not text:
        return ""
    return _redact(text)


@lru_cache(maxsize=256)  # a failed job's error is shown again at every status and alert
def _redact(text: str) -> str:
    lowered = text.lower()
    for rule in _RULES:
        if any(word in lowered for word in rule.needs):
            text = rule.pattern.sub(rule.replace, text)
    text = replace_provider_tokens(text, REDACTED)
    if any(word in lowered for word in _HOME_NEEDS):
        text = _HOME.sub(_home_prefix, text)
    return text


def redact_part(part: str, whole: str) -> str:
    """`part`, cut from `whole` (a word of a typed line), redacted as `whole` would have it: a
    secret may be recognisable only by what stood beside it (`AWS_SECRET_ACCESS_KEY <key>`)."""
    if part and part in whole and part not in redact(whole):
        return REDACTED
    return redact(part)


def redact_params(params: Mapping[str, object], whole: str) -> dict[str, object]:
    """An error's parameters, whose text came from `whole`, ready to be shown or stored."""
    return {k: redact_part(v, whole) if isinstance(v, str) else v for k, v in params.items()}
