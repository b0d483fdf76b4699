"""What comes in from a platform, cleaned once as it enters the core (`core.safety.text.clean`).

`CommandService` applies these at its entry points, the ones every adapter calls, so no
adapter can forget: a NUL or a lone surrogate in a command, an option, a form value, a
display name or a channel never reaches a handler, a reply or the audit log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeVar

from core.commands.model import Command
from core.domain.model import MAX_CHANNEL_NAME, Actor, Principal
from core.safety.text import clean, cut

C = TypeVar("C", bound=Command)


def clean_actor(actor: Actor) -> Actor:
    """`actor` with its ids and names on one clean line each."""
    principal = actor.principal
    return dataclasses.replace(
        actor,
        principal=Principal(
            clean(principal.platform, multiline=False),
            clean(principal.workspace, multiline=False),
            clean(principal.user_id, multiline=False),
        ),
        display_name=clean(actor.display_name, multiline=False),
        locale=clean(actor.locale, multiline=False),
        channel=clean(actor.channel, multiline=False),
        thread=clean(actor.thread, multiline=False),
        channel_name=cut(clean(actor.channel_name, multiline=False), MAX_CHANNEL_NAME),
    )


def clean_command(command: C) -> C:
    """`command` with every text it carries cleaned (a note keeps its line breaks)."""
    changes: dict[str, object] = {}
    for field in dataclasses.fields(command):
        value = getattr(command, field.name)
        if type(value) is str:  # not an enum's value
            changes[field.name] = clean(value)
        elif isinstance(value, tuple) and all(type(v) is str for v in value):
            changes[field.name] = tuple(clean(v) for v in value)
    return dataclasses.replace(command, **changes) if changes else command


def clean_values(values: Mapping[str, object]) -> dict[str, object]:
    """Typed options or form values with their texts cleaned; numbers stay as they are."""
    return {
        clean(name, multiline=False): clean(value) if isinstance(value, str) else value
        for name, value in values.items()
    }
