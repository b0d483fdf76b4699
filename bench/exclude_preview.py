"""Time and memory of `exclude`'s preview walk (D2) over a million files.

    python bench/exclude_preview.py [--files 1000000] [--dir DIR] [--keep]

Makes `--files` empty-ish files (100 to a folder; one folder in ten is a `node_modules/`,
one file in ten a `.log`) in a scratch folder (under `--dir`, else the system's temporary
folder), then times one walk of the whole tree with all the presets, as `exclude` runs it in
its thread, and prints the files per second, the peak resident memory the walk added, and one
walk cut short by the default limit of 60 seconds if it applies.

Aim: a million files within the default bounds (1,000,000 files, 60 s), memory flat.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.exclusions.presets import presets
from core.exclusions.preview import preview
from tests.unit.test_exclusion_preview import make_tree


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--dir", default=None)
    parser.add_argument("--keep", action="store_true", help="leave the tree behind")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="exclude-bench-", dir=args.dir))
    try:
        started = time.perf_counter()
        make_tree(root / "site", args.files)
        made = time.perf_counter() - started
        print(f"tree: {args.files:,} files made in {made:.1f} s")
        before = _rss_mib()
        started = time.perf_counter()
        result = preview(str(root / "site"), presets(), max_files=args.files)
        took = time.perf_counter() - started
        print(
            f"walk: {result.files_seen:,} files, complete={result.complete}, "
            f"{took:.1f} s, {result.files_seen / took:,.0f} files/s, "
            f"peak RSS +{_rss_mib() - before:.1f} MiB"
        )
        for pid, tally in result.tallies.items():
            print(f"  {pid:15} {tally.files:>9,} files {tally.bytes:>12,} bytes")
        started = time.perf_counter()
        bounded = preview(str(root / "site"), presets(), max_files=args.files // 4)
        print(
            f"bounded at {args.files // 4:,} files: {bounded.files_seen:,} seen, "
            f"complete={bounded.complete}, {time.perf_counter() - started:.1f} s"
        )
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
