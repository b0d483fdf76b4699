"""The built-in exclusion presets (D2): a pure table, in gitignore syntax plus the `:`
directives of core/exclusions/rules.py where gitignore cannot say it (size, markers)."""

from __future__ import annotations

from dataclasses import dataclass

from core.exclusions.rules import CACHEDIR_DIRECTIVE, MAX_MEGABYTES, if_present, larger_than

DEFAULT_OVER_MB = 100  # "large media": files over this many megabytes, unless --over says
LARGE_MEDIA = "large-media"


@dataclass(frozen=True)
class Preset:
    """One preset: its id (typed in `exclude <target> add <id>`) and the entries it adds."""

    id: str
    entries: tuple[str, ...]

    @property
    def summary_key(self) -> str:
        """Its one-line description in the catalog."""
        return f"exclude.preset.{self.id}"


_TABLE: tuple[Preset, ...] = (
    Preset("node-modules", ("node_modules/",)),
    Preset("git", (".git/",)),
    Preset(
        "caches",
        (
            "wp-content/cache/",
            ".cache/",
            "__pycache__/",
            ".pytest_cache/",
            ".mypy_cache/",
            ".sass-cache/",
            ".npm/",
        ),
    ),
    Preset(
        "backup-plugins",
        (
            "wp-content/updraft/",
            "wp-content/ai1wm-backups/",
            "wp-content/backups-dup-*/",
            "wp-content/uploads/backwpup-*/",
        ),
    ),
    Preset("logs", ("*.log", "logs/")),
    Preset(LARGE_MEDIA, (larger_than(DEFAULT_OVER_MB),)),
    Preset("cachedir-tag", (CACHEDIR_DIRECTIVE,)),
    Preset("nobackup", (if_present(".nobackup"),)),
)

PRESET_IDS: tuple[str, ...] = tuple(p.id for p in _TABLE)


def presets(over_mb: int = DEFAULT_OVER_MB) -> tuple[Preset, ...]:
    """Every preset, in the order they are shown; the size rule over `over_mb` MB."""
    if not 1 <= over_mb <= MAX_MEGABYTES:
        raise ValueError(f"over_mb must be 1..{MAX_MEGABYTES}, not {over_mb}")
    return tuple(
        Preset(p.id, (larger_than(over_mb),)) if p.id == LARGE_MEDIA else p for p in _TABLE
    )


def find_preset(choice: str, over_mb: int = DEFAULT_OVER_MB) -> Preset | None:
    """The preset named `choice` (its id, any case, `_` for `-`) or numbered `choice` (1-based,
    as the list shows them); None for anything else."""
    table = presets(over_mb)
    text = choice.strip().lower().replace("_", "-")
    if text.isascii() and text.isdigit() and len(text) <= 3:
        number = int(text)
        return table[number - 1] if 1 <= number <= len(table) else None
    return next((p for p in table if p.id == text), None)
