"""The preview's bounded walk past one batch, cut short by files and by time (D2); a million
files is bench/exclude_preview.py's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.exclusions.presets import presets
from core.exclusions.preview import Progress, preview

FILES = 100_000  # ten batches of the default 10,000; about 3 s with the tree made
BATCH = 10_000


def make_tree(root: Path, files: int) -> None:
    """`files` files, 100 to a folder; every tenth folder a `node_modules/`, every file whose
    number ends in 7 a `.log` of 7 bytes, the others 3 bytes."""
    for number in range(files):
        folder = number // 100
        name = f"d{folder}/node_modules" if folder % 10 == 0 else f"d{folder}"
        directory = root / name
        if number % 100 == 0:
            directory.mkdir(parents=True)
        path = directory / (f"f{number}.log" if number % 10 == 7 else f"f{number}.txt")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"x" * (7 if number % 10 == 7 else 3))
        os.close(fd)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("preview-tree")
    make_tree(root, FILES)
    yield root


def test_a_walk_past_several_batches_counts_every_file_and_reports_each_batch(
    tree: Path,
) -> None:
    batches: list[int] = []
    result = preview(str(tree), presets(), on_batch=batches.append, batch=BATCH)
    assert batches == list(range(BATCH, FILES + 1, BATCH))
    assert result.complete and result.files_seen == FILES
    modules = result.tallies["node-modules"]
    assert (modules.files, modules.bytes) == (10_000, 9_000 * 3 + 1_000 * 7)
    logs = result.tallies["logs"]
    assert (logs.files, logs.bytes) == (10_000, 10_000 * 7)


def test_a_walk_stops_at_its_file_limit_and_says_its_figures_are_lower_bounds(
    tree: Path,
) -> None:
    progress = Progress()
    result = preview(str(tree), presets(), max_files=12_345, progress=progress)
    assert not result.complete and not result.cancelled
    assert result.files_seen == 12_345 == progress.files
    assert result.tallies["logs"].files < 10_000


def test_a_walk_stops_at_its_time_limit(tree: Path) -> None:
    ticks = iter(range(1_000_000))
    result = preview(str(tree), presets(), max_seconds=5_000, clock=lambda: next(ticks))
    assert not result.complete and 0 < result.files_seen < FILES


def test_a_stopped_walk_ends_at_its_next_entry(tree: Path) -> None:
    progress = Progress()
    progress.stop.set()
    result = preview(str(tree), presets(), progress=progress)
    assert result.cancelled and result.files_seen == 0
