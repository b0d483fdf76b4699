"""Compare ArchiveRunner's throughput with GNU `tar -czf` on the same generated tree.

    python bench/archive.py [--files 10000] [--large 3] [--large-mb 20]

Both tools archive the same tree with the same exclusions, best of 3 after a warm-up run
(so both read from a warm page cache). The aim is ours/tar >= 0.8.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.domain.model import TargetKind, TargetSpec
from core.jobs.runners.archive import ArchiveRunner
from core.jobs.runners.base import CancelToken

EXCLUDES = ("node_modules/", "cache/")
WORDS = [
    "export",
    "backup",
    "archive",
    "job",
    "target",
    "config",
    "value",
    "error",
    "user",
    "channel",
    "message",
    "status",
    "queue",
    "worker",
    "request",
    "response",
]


def _text(rng: random.Random, size: int) -> bytes:
    """Log-like text: compresses to roughly a third, like source code or CSV."""
    parts: list[str] = []
    length = 0
    while length < size:
        words = " ".join(rng.choices(WORDS, k=8))
        line = f"{rng.randrange(10**6):06d} {words} {rng.random():.6f}\n"
        parts.append(line)
        length += len(line)
    return "".join(parts).encode()[:size]


def build_tree(root: Path, files: int, large: int, large_mb: int) -> int:
    """Write the tree; return the bytes that the archive should contain (excluded not counted)."""
    rng = random.Random(42)
    total = 0
    for index in range(files):
        folder = root / f"dir{index // 500:03d}" / f"sub{index // 50 % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        data = _text(rng, rng.randint(200, 8192))
        (folder / f"file{index:05d}.txt").write_bytes(data)
        total += len(data)
    big = root / "big"
    big.mkdir()
    for index in range(large):
        size = large_mb << 20
        if index % 3 == 2:
            data = os.urandom(size)  # already-compressed media
        elif index % 3 == 1:
            half = os.urandom(size // 2)
            data = half + _text(rng, size - len(half))
        else:
            data = _text(rng, size)
        (big / f"large{index}.bin").write_bytes(data)
        total += len(data)
    for excluded in ("node_modules/pkg", "app/cache"):
        folder = root / excluded
        folder.mkdir(parents=True)
        for index in range(300):
            (folder / f"x{index}.js").write_bytes(_text(rng, 2000))
    return total


def best_of(runs: int, action: Callable[[], None]) -> float:
    action()  # warm-up: page cache, imports
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=3)
    parser.add_argument("--large-mb", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("tar") is None:
        sys.exit("GNU tar is needed for the comparison")

    with tempfile.TemporaryDirectory(prefix="exportbot-bench-") as temp:
        root, out = Path(temp) / "src", Path(temp) / "out"
        root.mkdir()
        out.mkdir()
        total = build_tree(root, args.files, args.large, args.large_mb)
        spec = TargetSpec(
            "bench", TargetKind.ARCHIVE, source=str(root), archive_dir=str(out), exclude=EXCLUDES
        )
        job = iter(range(1, 1000))
        sizes: dict[str, int] = {}

        def ours() -> None:
            result = ArchiveRunner(spec).run(next(job), CancelToken(), lambda _p: None)
            assert result.archive_path is not None and result.size_bytes is not None
            sizes["ours"] = result.size_bytes
            os.unlink(result.archive_path)

        def gnu_tar() -> None:
            target = out / "tar.tar.gz"
            excludes = [f"--exclude={pattern.rstrip('/')}" for pattern in EXCLUDES]
            subprocess.run(
                ["tar", "-czf", str(target), *excludes, "-C", str(root), "."], check=True
            )
            sizes["tar"] = target.stat().st_size
            target.unlink()

        ours_s = best_of(args.runs, ours)
        tar_s = best_of(args.runs, gnu_tar)

    mb = total / 1e6
    print(f"input: {total:,} bytes ({mb:.1f} MB) in {args.files + args.large:,} files")
    print(f"ours: {ours_s:.3f} s  {mb / ours_s:6.1f} MB/s  archive {sizes['ours']:,} bytes")
    print(f"tar:  {tar_s:.3f} s  {mb / tar_s:6.1f} MB/s  archive {sizes['tar']:,} bytes")
    print(f"ratio ours/tar (throughput): {tar_s / ours_s:.2f}")


if __name__ == "__main__":
    main()
