"""Split command text into words, honouring quotes the way chat users type them.

Slack and Teams turn straight quotes into curly ones, so “…” and ‘…’ quote too.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import InvalidCommand

_CLOSING = {'"': '"', "'": "'", "“": "”", "”": "”", "„": "“", "‘": "’", "«": "»"}


@dataclass(frozen=True)
class Token:
    value: str
    quoted: bool = False


def tokenize(text: str) -> list[Token]:
    """Words separated by whitespace; a quoted run is one word (possibly empty).

    Inside double quotes a backslash escapes the next character. An unterminated quote is
    an `InvalidCommand` naming the quote character.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in _CLOSING:
            closing = _CLOSING[ch]
            value, i = _read_quoted(text, i + 1, closing, ch)
            tokens.append(Token(value, quoted=True))
            continue
        start = i
        while i < n and not text[i].isspace():
            i += 1
        tokens.append(Token(text[start:i]))
    return tokens


def _read_quoted(text: str, i: int, closing: str, opening: str) -> tuple[str, int]:
    chars: list[str] = []
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and opening == '"' and i + 1 < n:
            chars.append(text[i + 1])
            i += 2
            continue
        if ch == closing:
            return "".join(chars), i + 1
        chars.append(ch)
        i += 1
    raise InvalidCommand("error.unterminated_quote", quote=opening)
