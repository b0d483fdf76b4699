"""Generated input shared by the chat doors' hostile tests: JSON of any shape, text with the
characters that break things (NUL, C0 controls, lone surrogates, bidi overrides), and real
payloads with one part replaced."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

# Lone surrogates (as a forger's JSON escapes them) once cost the audit writer its whole batch.
NASTY = [
    "\x00", "\u202e", "\x1b", "\r\n", "²", "١", "<!channel>", "%00", "9" * 5000, "\ud800", "\udc80"
]  # fmt: skip


def _text(nasty: list[str]) -> st.SearchStrategy[str]:
    pieces = st.one_of(st.text(min_size=1, max_size=8), st.sampled_from(nasty))
    return st.lists(pieces, min_size=1, max_size=6).map("".join)


HOSTILE_TEXT = _text(NASTY)

# json.dumps writes a lone surrogate as a `\ud800` escape, as a forger would send it.
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**40), 10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        HOSTILE_TEXT,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(HOSTILE_TEXT, inner, max_size=4)
    ),
    max_leaves=12,
)


def mutated(payload: Any, path: list[int], value: Any) -> Any:
    """`payload` with one node replaced by `value`: `path` picks, at each level, a child by
    position (modulo how many there are), so every part of a real payload can be reached."""
    result = copy.deepcopy(payload)
    node = result
    for step, index in enumerate(path):
        children = list(node.keys()) if isinstance(node, dict) else range(len(node))
        if not isinstance(node, dict | list) or not children:
            break
        key = children[index % len(children)]
        last = step == len(path) - 1 or not isinstance(node[key], dict | list)
        if last:
            node[key] = value
            return result
        node = node[key]
    return value if node is result else result
