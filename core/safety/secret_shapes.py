"""Provider token shapes from detect-secrets, compiled once at import (G3).

detect-secrets keeps, per provider, the regular expressions of its token formats (each
plugin's `denylist`). We read them and never call a plugin: its verification would reach the
provider over the network (importing it loads `requests`, which is never used). Plugins that
would do harm here are left out (listed below); `core.safety.redaction` has its own rules for those
and for what detect-secrets lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import cast

from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector

# The whole match is the token. A provider's format often fixes only the token's start (a
# Stripe key is "at least" 24 characters), so the rest of the word goes with it.
_WHOLE: tuple[type[RegexBasedDetector], ...] = (
    AWSKeyDetector,
    AzureStorageKeyDetector,
    DiscordBotTokenDetector,
    GitHubTokenDetector,
    GitLabTokenDetector,
    MailchimpDetector,
    OpenAIDetector,
    PypiTokenDetector,
    SendGridDetector,
    SlackDetector,
    SquareOAuthDetector,
    StripeDetector,
    TelegramBotTokenDetector,
    TwilioKeyDetector,
)
# A name, then the secret in the pattern's first group: only the group goes.
_KEYED: tuple[type[RegexBasedDetector], ...] = (NpmDetector,)
# Left out: IPPublicDetector (an address is not a secret), ArtifactoryDetector (its `AP…`
# shape matches ordinary capitalised words), BasicAuthDetector (stops at the first "@" of a
# password; ours cuts to the last), JwtTokenDetector (its lazy end leaves the signature; ours
# takes all three parts), PrivateKeyDetector (the BEGIN line only; ours takes the block), and
# the assignment plugins (Cloudant, IBM, SoftLayer): our `name=value` rule covers them, and
# their patterns try every position of the text, ten times the cost of all the others.

_REST_OF_WORD = r"[A-Za-z0-9_\-]*"
_WORD_CHARACTER = re.compile(r"[A-Za-z0-9_\-]")


@dataclass(frozen=True)
class _Shape:
    pattern: re.Pattern[str]
    keyed: bool  # group 1 is the secret; otherwise the whole match is


def _shapes() -> tuple[_Shape, ...]:
    """Each plugin pattern compiled alone: one alternation of all of them is slower than the
    sum, because the engine can no longer jump to a pattern's literal start."""
    shapes: list[_Shape] = []
    for detector in _WHOLE + _KEYED:
        # A class attribute in every plugin, though the base declares it an abstract property.
        for pattern in cast("list[re.Pattern[str]]", detector.denylist):
            if detector in _KEYED and pattern.groups > 0:
                shapes.append(_Shape(pattern, keyed=True))
            else:
                source = f"(?:{pattern.pattern}){_REST_OF_WORD}"
                shapes.append(_Shape(re.compile(source, pattern.flags), keyed=False))
    return tuple(shapes)


SHAPES = _shapes()


def replace_provider_tokens(text: str, replacement: str) -> str:
    """`text` with every provider token detect-secrets knows replaced by `replacement`."""

    def keyed(match: re.Match[str]) -> str:
        whole, start = match.group(), match.start()
        if match.start(1) < 0:
            return replacement
        return whole[: match.start(1) - start] + replacement + whole[match.end(1) - start :]

    def whole(match: re.Match[str]) -> str:
        # A token starts a word. Without this, a Teams principal whose tenant id ends in eight
        # digits ("…-201234567890:1e5c2ac0-…") read as a Telegram token (digits, colon, 35).
        # Checked here, not by a lookbehind, which would cost each pattern its literal start.
        start = match.start()
        if start and _WORD_CHARACTER.match(match.string, start - 1):
            return match.group()
        return replacement

    for shape in SHAPES:
        text = shape.pattern.sub(keyed if shape.keyed else whole, text)
    return text
