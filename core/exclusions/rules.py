"""What an `exclude` list means, for the archive runner and the preview alike.

An entry is a gitignore pattern (`node_modules/`, `*.log`, `wp-content/backups-dup-*/`),
matched with pathspec's `GitIgnoreSpec` (git's own rules: a pattern with a slash before its
end is anchored at the source's root, a trailing slash matches folders only, the last match
wins, and nothing below an excluded folder can be re-included). A few rules cannot be said
in gitignore syntax; they are written as directives starting with `:`, which no gitignore
pattern of ours needs (a file really named `:x` is written `\\:x`):

- `:larger-than=<N>MB`: files over N megabytes (10^6 bytes);
- `:if-present=<name>`: folders holding an entry called `<name>` (`.nobackup`);
- `:cachedir-tag`: folders holding a `CACHEDIR.TAG` that starts with the signature of the
  Cache Directory Tagging specification.

Markers apply to folders below the source's root, never to the root itself: the target's
folder is what an admin chose to export.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pathspec

CACHEDIR_TAG = "CACHEDIR.TAG"
CACHEDIR_SIGNATURE = b"Signature: 8a477f597d28d172789f06886806bc55"
MEGABYTE = 1_000_000
MAX_MEGABYTES = 1_000_000  # a terabyte: beyond it a size rule excludes nothing real

_LARGER = re.compile(r":larger-than=([0-9]{1,7})MB")
_PRESENT = re.compile(r":if-present=([^/\\\x00]{1,255})")


def larger_than(megabytes: int) -> str:
    """The directive for files over `megabytes` MB."""
    return f":larger-than={megabytes}MB"


def if_present(name: str) -> str:
    """The directive for folders holding an entry called `name`."""
    return f":if-present={name}"


CACHEDIR_DIRECTIVE = ":cachedir-tag"


@dataclass(frozen=True)
class Exclusions:
    """A compiled `exclude` list; empty means nothing is excluded."""

    spec: pathspec.GitIgnoreSpec | None = None
    over_bytes: int | None = None  # files strictly larger than this are excluded
    markers: frozenset[str] = frozenset()
    cachedir_tag: bool = False
    # Whether a file (not a folder) can match on its own: with folder-only patterns and no
    # size rule, only folders need asking, which keeps the preview's walk cheap.
    files_may_match: bool = False

    @property
    def empty(self) -> bool:
        return (
            self.spec is None
            and self.over_bytes is None
            and not self.markers
            and not (self.cachedir_tag)
        )

    def excludes_dir(self, relative: str, path: str) -> bool:
        """Whether the folder `relative` (ending in `/`, below the root) at `path` is left out,
        with everything below it."""
        if self.spec is not None and self.spec.match_file(relative):
            return True
        if self.markers and any(_exists(os.path.join(path, m)) for m in self.markers):
            return True
        return self.cachedir_tag and has_cachedir_tag(path)

    def excludes_file(self, relative: str, size: int | None = None) -> bool:
        """Whether the file `relative` (its folders already kept) of `size` bytes is left out;
        `size` None (a symlink) is never too large."""
        if self.over_bytes is not None and size is not None and size > self.over_bytes:
            return True
        return self.spec is not None and bool(self.spec.match_file(relative))

    def excludes_path(self, relative: str, *, size: int | None = None) -> bool:
        """Name rules alone, on a path with its folders (`a/b/` a folder, `a/b` a file): left out
        when any folder on the way is, as the walk prunes it. No filesystem access: markers are
        not consulted (tests, and what a pattern alone means)."""
        parts = relative.split("/")
        is_dir = relative.endswith("/")
        folders = parts[:-2] if is_dir else parts[:-1]
        prefix = ""
        for folder in folders:
            prefix += folder + "/"
            if self.spec is not None and self.spec.match_file(prefix):
                return True
        if is_dir:
            return self.spec is not None and bool(self.spec.match_file(relative))
        return self.excludes_file(relative, size)


def compile_exclusions(entries: Iterable[str]) -> Exclusions:
    """The matcher for `entries` (gitignore patterns and `:` directives, see the module)."""
    patterns: list[str] = []
    over: int | None = None
    markers: set[str] = set()
    cachedir = False
    for entry in entries:
        if (size := _LARGER.fullmatch(entry)) is not None:
            limit = int(size[1]) * MEGABYTE
            over = limit if over is None else min(over, limit)
        elif (marker := _PRESENT.fullmatch(entry)) is not None and marker[1] not in (".", ".."):
            markers.add(marker[1])
        elif entry == CACHEDIR_DIRECTIVE:
            cachedir = True
        else:
            patterns.append(entry)
    patterns = [p for p in patterns if _valid(p)]
    spec = pathspec.GitIgnoreSpec.from_lines(patterns) if patterns else None
    files_may_match = over is not None or any(
        p.strip() and not p.strip().startswith("#") and not p.rstrip().endswith("/")
        for p in patterns
    )
    return Exclusions(spec, over, frozenset(markers), cachedir, files_may_match)


def _valid(pattern: str) -> bool:
    """Whether pathspec reads `pattern`: one it refuses (a trailing lone backslash) never
    matches, as git ignores it, instead of failing the whole archive."""
    try:
        pathspec.GitIgnoreSpec.from_lines([pattern])
    except ValueError:
        return False
    return True


def has_cachedir_tag(folder: str) -> bool:
    """Whether `folder` holds a CACHEDIR.TAG file starting with the specification's signature
    (a symlink named so does not count: it could point anywhere)."""
    try:
        fd = os.open(os.path.join(folder, CACHEDIR_TAG), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        return os.read(fd, len(CACHEDIR_SIGNATURE)) == CACHEDIR_SIGNATURE
    except OSError:
        return False
    finally:
        os.close(fd)


def _exists(path: str) -> bool:
    try:
        os.lstat(path)
    except OSError:
        return False
    return True
