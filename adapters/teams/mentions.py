"""People @mentioned in a Teams message, named as the grammar names a person: `<@id>`.

Slack writes a mention as `<@U0456>` and Discord as `<@123>`; the core reads either as a user
of the speaker's own workspace (core/domain/authorization.py). A Teams message carries
`<at>Carol</at>` in its text and, in `entities`, who that is: the AAD object id (Teams
principals are tenant + AAD object id), or only the `29:` id of the conversation's roster, which
the connector's `GET /v3/conversations/{id}/members/{member}` turns into the object id.

Ids are checked before use: the SDK puts a member id into the request path as it is, so only
the shapes Teams gives are looked up. A mention nobody can resolve stops the command with a
reply naming it (nothing is done), rather than granting a role to the wrong person or none.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.safety.text import clean, cut

# An AAD object id is a GUID; taken here in the characters a principal's user id may hold
# in a mention (`<@…>`, core/domain/authorization.py), as the speaker's own id is taken
# from `from.aadObjectId`. A roster id is `29:` and a base64url-like string.
OBJECT_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")
MEMBER_ID = re.compile(r"29:[A-Za-z0-9_-]{1,200}")
_TAG = re.compile(r"<at>[^<]{0,200}</at>", re.IGNORECASE)
MAX_MENTIONS = 20  # more people than that in one command is not a command
MAX_SHOWN_NAME = 80


@dataclass(frozen=True)
class Mention:
    """One person mentioned: `text` as it stands in the message, the name to show in a reply,
    and what Teams said of them (either id may be empty when it was missing or malformed)."""

    text: str
    name: str
    object_id: str
    member_id: str


class MentionUnresolved(Exception):
    """Nobody could say who a mention is. `failed`: the roster could not be read (an error
    at the connector) rather than not knowing them."""

    def __init__(self, name: str, *, failed: bool) -> None:
        super().__init__(f"Mention {name!r} is not resolved.")
        self.name = name
        self.failed = failed


# Looks up a roster member by `29:` id; the AAD object id, "" when the roster has no such
# member; raises when the roster cannot be read.
Lookup = Callable[[str], Awaitable[str]]


def user_mentions(text: str, entities: list[dict[str, Any]], bot_id: str) -> list[Mention]:
    """The people (not the bot) the entities mention and the text holds, in order. An entity
    whose text is not in the message names nobody in it, and is left out."""
    found: list[Mention] = []
    for data in entities:
        if data.get("type") != "mention":
            continue
        mentioned = data.get("mentioned")
        if not isinstance(mentioned, dict):
            continue
        raw_id, shown = mentioned.get("id"), data.get("text")
        if not isinstance(shown, str) or not _TAG.fullmatch(shown) or shown not in text:
            continue  # Teams writes a mention `<at>Name</at>`; anything else names nobody
        if raw_id == bot_id:
            continue
        name = mentioned.get("name")
        aad = mentioned.get("aadObjectId")
        found.append(
            Mention(
                text=shown,
                name=_shown_name(name if isinstance(name, str) and name else shown),
                object_id=aad if isinstance(aad, str) and OBJECT_ID.fullmatch(aad) else "",
                member_id=raw_id if isinstance(raw_id, str) and MEMBER_ID.fullmatch(raw_id) else "",
            )
        )
        if len(found) == MAX_MENTIONS:  # the rest are dropped, as unknown tags are
            break
    return found


async def resolved_text(text: str, mentions: list[Mention], lookup: Lookup) -> str:
    """`text` with each mention replaced by `<@object-id>`; raises `MentionUnresolved` naming
    the first one neither the entity nor the roster could resolve."""
    known: dict[str, str] = {}  # roster answers, once per member in one message
    for mention in mentions:
        object_id = mention.object_id
        if not object_id and mention.member_id:
            if mention.member_id not in known:
                try:
                    known[mention.member_id] = await lookup(mention.member_id)
                except Exception as error:
                    raise MentionUnresolved(mention.name, failed=True) from error
            answer = known[mention.member_id]
            object_id = answer if OBJECT_ID.fullmatch(answer) else ""
        if not object_id:
            raise MentionUnresolved(mention.name, failed=False)
        text = text.replace(mention.text, f" <@{object_id}> ", 1)
    return text


def _shown_name(name: str) -> str:
    """A name fit for a reply: `<at>` tags dropped, one line, control characters gone, short."""
    bare = re.sub(r"</?at>", "", name, flags=re.IGNORECASE)
    return cut(clean(bare, multiline=False), MAX_SHOWN_NAME) or "?"
