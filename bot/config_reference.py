"""The configuration reference, rendered from the settings model (`bot/config.py`).

Every setting is listed with its TOML key, environment variable, type, default and description
(the field's docstring), so the reference cannot drift from the model: the docs site renders it
into `docs/configuration.md` at build time (`docs/hooks/settings_reference.py`), and
`python -m bot.config_reference` prints it.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Callable, Iterable
from typing import Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AliasChoices, BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import NoDecode

from bot.config import GrantConfig, Settings, TargetConfig

# The nested tables of the TOML file, in the order the reference shows them.
TABLES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("targets", TargetConfig),
    ("grants", GrantConfig),
)


def env_names(name: str, field: FieldInfo) -> tuple[str, ...]:
    """The environment variables that set the field `name` of `Settings`.

    A field with an alias (the platforms' own names, `SLACK_BOT_TOKEN`) is read from those
    names only; any other from `EXPORTBOT_<NAME>`.
    """
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(c for c in alias.choices if isinstance(c, str) and c != name)
    if isinstance(alias, str):
        return (alias,)
    return (f"{Settings.model_config.get('env_prefix', '')}{name}".upper(),)


def type_text(annotation: Any, metadata: Iterable[Any] = ()) -> str:
    """`float` with `Gt(0)` → `number > 0`; `Literal["a", "b"]` → one of `a`, `b`."""
    text = _type_name(annotation)
    bounds = [_bound(item) for item in metadata]
    return ", ".join([text, *(b for b in bounds if b)])


def default_text(field: FieldInfo) -> str:
    """The default as TOML would write it, or `none` for an unset value."""
    value = field.get_default(call_default_factory=True)
    if value is None or value == "" or value == [] or value == {}:
        return "none"
    return f"`{_toml_value(value)}`"


def description(field: FieldInfo) -> str:
    """The field's docstring on one line."""
    return " ".join((field.description or "").split())


def render() -> str:
    """The whole reference as Markdown: the top-level settings, then each nested table.

    Each setting is a heading of its own, so a page can link to `#webhook_allow_private`.
    """
    lines = ["### Top-level settings", ""]
    for name, field in Settings.model_fields.items():
        note = _env_format(field)
        env = ", ".join(f"`{e}`" for e in env_names(name, field)) + (f" ({note})" if note else "")
        lines += _entry(name, name, env, field)
    for table, model in TABLES:
        lines += [f"### `[[{table}]]`", ""]
        for name, field in model.model_fields.items():
            lines += _entry(name, f"{table}.{name}", "", field)
    return "\n".join(lines)


def _entry(name: str, anchor: str, env: str, field: FieldInfo) -> list[str]:
    default = "required" if field.is_required() else default_text(field)
    facts = [f"**Environment** {env}"] if env else []
    facts += [f"**Type** {type_text(field.annotation, field.metadata)}", f"**Default** {default}"]
    return [f"#### `{name}` {{#{anchor}}}", "", " · ".join(facts), "", description(field), ""]


def main() -> None:
    print("# Configuration reference\n")
    print(render(), end="")


# -- helpers ---------------------------------------------------------------------------------

_SCALARS: dict[Any, str] = {
    str: "text",
    SecretStr: "secret text",
    int: "integer",
    float: "number",
    bool: "`true` or `false`",
}
_BOUNDS: tuple[tuple[type[Any], str, Callable[[Any], Any]], ...] = (
    (annotated_types.Gt, ">", lambda b: b.gt),
    (annotated_types.Ge, "≥", lambda b: b.ge),
    (annotated_types.Lt, "<", lambda b: b.lt),
    (annotated_types.Le, "≤", lambda b: b.le),
)


def _type_name(annotation: Any) -> str:
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "one of " + ", ".join(f"`{member.value}`" for member in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "table"
    if origin is Literal:
        return "one of " + ", ".join(f"`{arg}`" for arg in args)
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in args if arg is not type(None))
    if origin is list:
        return f"list of {_plural(_type_name(args[0]))}"
    if origin is dict:
        return f"table of {_plural(_type_name(args[1]))}"
    raise TypeError(f"No reference text for the type {annotation!r}; add it to _type_name.")


def _plural(name: str) -> str:
    return f"{name}s" if name in ("integer", "number", "table") else name


def _bound(item: Any) -> str:
    for kind, sign, value in _BOUNDS:
        if isinstance(item, kind):
            return f"{sign} {_toml_value(value(item))}"
    return ""


def _env_format(field: FieldInfo) -> str:
    """How a list or table is written in one environment variable."""
    if any(item is NoDecode for item in field.metadata):
        return "comma-separated"
    annotation = field.annotation
    if get_origin(annotation) in (list, dict):
        return "JSON"
    return ""


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


if __name__ == "__main__":
    main()
