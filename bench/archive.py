"""Compare ArchiveRunner's throughput with GNU tar on the same generated tree, gzip and zstd.

    python bench/archive.py [--files 10000] [--large 3] [--large-mb 20]

gzip: ours beside `tar -czf`; zstd: ours (`compression = "zstd"`) beside `tar --zstd -cf`
(which needs the `zstd` program: without it the bench says so and prints only ours). Every
run archives the same tree with the same exclusions, best of 5 after a warm-up run (so all
read from a warm page cache), ours and tar taking turns. The aims: ours/tar >= 0.8 for
gzip, >= 0.9 for zstd. The compression ratio is the input's bytes over the archive's.
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

from core.domain.model import Compression, TargetKind, TargetSpec
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


def best_of(runs: int, actions: dict[str, Callable[[], None]]) -> dict[str, float]:
    """Each action's best time. The actions take turns, so a neighbour's burst of load on a
    shared machine slows both sides of a comparison, not just one."""
    for action in actions.values():
        action()  # warm-up: page cache, imports
    times: dict[str, list[float]] = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            start = time.perf_counter()
            action()
            times[name].append(time.perf_counter() - start)
    return {name: min(taken) for name, taken in times.items()}


def tar_zstd_missing() -> str | None:
    """Why `tar --zstd` cannot run here, or None when it can."""
    if shutil.which("zstd") is None:
        return "the zstd program is not installed (tar --zstd runs it)"
    help_text = subprocess.run(["tar", "--help"], capture_output=True, text=True).stdout
    if "--zstd" not in help_text:
        return "this tar has no --zstd option (GNU tar 1.31 or later has it)"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=3)
    parser.add_argument("--large-mb", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("tar") is None:
        sys.exit("GNU tar is needed for the comparison")
    no_tar_zstd = tar_zstd_missing()

    with tempfile.TemporaryDirectory(prefix="exportbot-bench-") as temp:
        root, out = Path(temp) / "src", Path(temp) / "out"
        root.mkdir()
        out.mkdir()
        total = build_tree(root, args.files, args.large, args.large_mb)
        job = iter(range(1, 1000))
        seconds: dict[str, float] = {}
        sizes: dict[str, int] = {}

        def ours(compression: Compression) -> Callable[[], None]:
            spec = TargetSpec(
                "bench",
                TargetKind.ARCHIVE,
                source=str(root),
                archive_dir=str(out),
                exclude=EXCLUDES,
                compression=compression,
            )

            def run() -> None:
                result = ArchiveRunner(spec).run(next(job), CancelToken(), lambda _p: None)
                assert result.archive_path is not None and result.size_bytes is not None
                sizes[f"ours {compression}"] = result.size_bytes
                os.unlink(result.archive_path)

            return run

        def gnu_tar(compression: Compression) -> Callable[[], None]:
            target = out / f"tar{compression.suffix}"
            flag = "-z" if compression is Compression.GZIP else "--zstd"
            excludes = [f"--exclude={pattern.rstrip('/')}" for pattern in EXCLUDES]

            def run() -> None:
                subprocess.run(
                    ["tar", flag, "-cf", str(target), *excludes, "-C", str(root), "."], check=True
                )
                sizes[f"tar {compression}"] = target.stat().st_size
                target.unlink()

            return run

        for compression in Compression:
            actions = {f"ours {compression}": ours(compression)}
            if compression is Compression.GZIP or no_tar_zstd is None:
                actions[f"tar {compression}"] = gnu_tar(compression)
            seconds.update(best_of(args.runs, actions))

    mb = total / 1e6
    print(f"input: {total:,} bytes ({mb:.1f} MB) in {args.files + args.large:,} files")
    for compression in Compression:
        print(f"-- {compression}")
        for tool in ("ours", "tar"):
            key = f"{tool} {compression}"
            if key not in seconds:
                print(f"{tool}:  not measured: {no_tar_zstd}")
                continue
            took, size = seconds[key], sizes[key]
            print(
                f"{tool + ':':5} {took:.3f} s  {mb / took:6.1f} MB/s  archive {size:,} bytes"
                f"  compression ratio {total / size:.2f}"
            )
        if f"tar {compression}" in seconds:
            speed = seconds[f"tar {compression}"] / seconds[f"ours {compression}"]
            print(f"ratio ours/tar (throughput): {speed:.2f}")


if __name__ == "__main__":
    main()
