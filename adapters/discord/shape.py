"""The shape of an interaction, checked at the door before any handler reads it (G1).

A correctly signed body can still be the wrong shape (a forged request signed with a leaked
key, or a Discord change): `member` a string, `data.options` a number. The handlers read the
fields below with `.get()` and trust their types; anything else is refused here with a 400,
before it can raise somewhere inside. Only what the adapter reads is described; every other
field passes as Discord sends it.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from pydantic import ConfigDict, StringConstraints, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

_OPEN = ConfigDict(extra="allow", strict=True)
Scalar = str | int | float | bool
# Ids are snowflakes (decimal, 64 bits); names are at most 32 characters on Discord. Bounded
# here, they fit the audit log's columns whatever a forged request says.
Snowflake = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
Name = Annotated[str, StringConstraints(max_length=100)]
Locale = Annotated[str, StringConstraints(max_length=16)]


@with_config(_OPEN)
class _User(TypedDict):
    id: Snowflake
    username: NotRequired[Name | None]
    global_name: NotRequired[Name | None]


@with_config(_OPEN)
class _Member(TypedDict):
    user: NotRequired[_User | None]
    nick: NotRequired[Name | None]


@with_config(_OPEN)
class _Channel(TypedDict):
    id: NotRequired[Snowflake | None]
    type: NotRequired[int | None]
    parent_id: NotRequired[Snowflake | None]


@with_config(_OPEN)
class _Option(TypedDict):
    name: str
    type: int
    value: NotRequired[Scalar | None]
    focused: NotRequired[bool | None]
    options: NotRequired[list[_Option] | None]


@with_config(_OPEN)
class _ModalInput(TypedDict):
    custom_id: NotRequired[str | None]
    value: NotRequired[str | None]
    values: NotRequired[list[Scalar] | None]


@with_config(_OPEN)
class _ModalRow(TypedDict):
    component: NotRequired[_ModalInput]
    components: NotRequired[list[_ModalInput] | None]


@with_config(_OPEN)
class _Author(TypedDict):
    bot: NotRequired[bool | None]


@with_config(_OPEN)
class _TargetMessage(TypedDict):
    author: NotRequired[_Author | None]
    content: NotRequired[str | None]
    channel_id: NotRequired[str | None]


@with_config(_OPEN)
class _Resolved(TypedDict):
    messages: NotRequired[dict[str, _TargetMessage] | None]


@with_config(_OPEN)
class _Data(TypedDict):
    type: NotRequired[int | None]
    name: NotRequired[str | None]
    custom_id: NotRequired[str | None]
    target_id: NotRequired[str | None]
    resolved: NotRequired[_Resolved | None]
    options: NotRequired[list[_Option] | None]
    components: NotRequired[list[_ModalRow] | None]


@with_config(_OPEN)
class _Interaction(TypedDict):
    type: int
    token: NotRequired[str]
    member: NotRequired[_Member | None]
    user: NotRequired[_User | None]
    guild_id: NotRequired[Snowflake | None]
    channel_id: NotRequired[Snowflake | None]
    channel: NotRequired[_Channel | None]
    locale: NotRequired[Locale | None]
    data: NotRequired[_Data | None]
    message: NotRequired[dict[str, Any] | None]


_INTERACTION: TypeAdapter[_Interaction] = TypeAdapter(_Interaction)


def shape_problem(interaction: object) -> str | None:
    """Why `interaction` (parsed JSON) is not an interaction the adapter can read, or None.

    The answer names the first bad field and its expected type, never the value sent.
    """
    try:
        _INTERACTION.validate_python(interaction)
    except ValidationError as invalid:
        first = invalid.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        return f"{where}: {first['msg']}"
    return None
