"""The preview of a target's presets: one bounded walk of its source tree that counts, for
every preset at once, the files and bytes it would leave out.

What the target already leaves out (its configured and scheduled exclusions) is pruned, as
the archive runner prunes it, so a preset is credited only with what it would add. Symlinks
are never followed (a symlink counts as a file of size 0, as it is archived); a folder that
cannot be read is counted as skipped and the walk goes on. The walk stops at `max_files`
entries or `max_seconds`, whichever is first: its figures are then lower bounds.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core.exclusions.presets import Preset
from core.exclusions.rules import compile_exclusions

DEFAULT_MAX_FILES = 1_000_000
DEFAULT_MAX_SECONDS = 60.0
BATCH = 10_000  # files between two progress reports


@dataclass
class Tally:
    files: int = 0
    bytes: int = 0


@dataclass
class PreviewResult:
    """What the walk saw: per preset id its tally, and whether it saw everything."""

    tallies: dict[str, Tally]
    files_seen: int = 0
    bytes_seen: int = 0
    skipped_dirs: int = 0
    complete: bool = True
    cancelled: bool = False
    seconds: float = 0.0
    missing: bool = False  # the source folder is not there (or not a folder)


@dataclass
class Progress:
    """Shared with the thread that walks: read by the event loop to draw the progress line."""

    files: int = 0
    stop: threading.Event = field(default_factory=threading.Event)


def preview(
    root: str,
    table: Sequence[Preset],
    current: Sequence[str] = (),
    *,
    max_files: int = DEFAULT_MAX_FILES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    progress: Progress | None = None,
    on_batch: Callable[[int], None] | None = None,
    batch: int = BATCH,
    clock: Callable[[], float] = time.monotonic,
) -> PreviewResult:
    """Walk `root` (blocking: run it in a thread) and tally each preset of `table`."""
    started = clock()
    rules = [(p.id, compile_exclusions(p.entries)) for p in table]
    already = compile_exclusions(current)
    result = PreviewResult({p.id: Tally() for p in table})
    progress = progress or Progress()
    if not os.path.isdir(root) or os.path.islink(root):
        result.missing = True
        return result
    # (path, relative prefix, presets excluding this folder already)
    stack: list[tuple[str, str, frozenset[str]]] = [(root, "", frozenset())]
    next_report = batch
    while stack:
        path, prefix, inherited = stack.pop()
        try:
            with os.scandir(path) as it:
                entries = list(it)
        except OSError:
            result.skipped_dirs += 1
            continue
        for entry in entries:
            if progress.stop.is_set():
                result.complete, result.cancelled = False, True
                return _done(result, clock, started)
            if result.files_seen >= max_files or clock() - started > max_seconds:
                result.complete = False
                return _done(result, clock, started)
            relative = prefix + entry.name
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # vanished since the listing
            except OSError:
                # Listed but not readable (a path past PATH_MAX, an I/O error): a folder is
                # said as skipped; its type comes from the listing itself.
                if _listed_as_dir(entry):
                    result.skipped_dirs += 1
                continue
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                folder = relative + "/"
                if already.excludes_dir(folder, entry.path):
                    continue
                here = inherited | {
                    pid
                    for pid, r in rules
                    if pid not in inherited and r.excludes_dir(folder, entry.path)
                }
                stack.append((entry.path, folder, frozenset(here)))
                continue
            if stat.S_ISREG(mode):
                size: int | None = st.st_size
            elif stat.S_ISLNK(mode):
                size = None
            else:
                continue  # sockets, fifos, devices: never archived
            if already.files_may_match and already.excludes_file(relative, size):
                continue
            counted = size or 0
            result.files_seen += 1
            result.bytes_seen += counted
            progress.files = result.files_seen
            for pid, r in rules:
                if pid in inherited or (r.files_may_match and r.excludes_file(relative, size)):
                    tally = result.tallies[pid]
                    tally.files += 1
                    tally.bytes += counted
            if on_batch is not None and result.files_seen >= next_report:
                next_report += batch
                on_batch(result.files_seen)
    return _done(result, clock, started)


def _listed_as_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _done(result: PreviewResult, clock: Callable[[], float], started: float) -> PreviewResult:
    result.seconds = clock() - started
    return result
