"""What `exportbot report` adds around a backup command: time, and output throughput.

    python bench/report_wrapper.py [--runs 10] [--megabytes 200]

Each figure is the median wall time of `--runs` runs of a process started from here:

- the command alone (`python -c pass`), the baseline;
- the same under `exportbot report`, against the loopback stand-in of the job-event API
  (tests/adapters/api_standin.py, which verifies every signature), so start + finish;
- the server down: nothing listens on the port (connection refused at once, retried);
- the server hanging: a socket that accepts connections and never answers, the worst case
  (each try waits for its timeout, within the start and finish budgets).

Then throughput: a command writing `--megabytes` MB to its standard output, read here from a
pipe, alone and under the wrapper (which copies it through while keeping the tail): MB/s,
also without the wrapper's fixed cost (its start-up and two calls, measured above).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.adapters.api_standin import running  # noqa: E402

KEY = "bench.s3cr3tKeyMaterial0123456789"
PY = sys.executable


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPORTBOT_")}
    env.update(PYTHONPATH=str(ROOT), EXPORTBOT_API_URL=url, EXPORTBOT_API_KEY=KEY)
    return env


async def _timed(argv: list[str], env: dict[str, str], *, count_bytes: bool = False) -> float:
    began = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdout=asyncio.subprocess.PIPE if count_bytes else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    if count_bytes:
        assert process.stdout is not None
        while await process.stdout.read(1 << 20):
            pass
    await process.wait()
    return time.perf_counter() - began


async def _median(runs: int, argv: list[str], env: dict[str, str]) -> float:
    return statistics.median([await _timed(argv, env) for _ in range(runs)])


def _wrapped(command: list[str]) -> list[str]:
    return [PY, "-m", "bot.cli", "report", "--target", "db", "--", *command]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--megabytes", type=int, default=1000)
    args = parser.parse_args()
    command = [PY, "-c", "pass"]
    async with running({"bench": KEY}) as api:
        alone = await _median(args.runs, command, _env(api.url))
        wrapped = await _median(args.runs, _wrapped(command), _env(api.url))
        verified = sum(c.verified for c in api.calls)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    down = await _median(max(1, args.runs // 5), _wrapped(command), _env(closed))
    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(64)  # never accepted, never answered
        silent = f"http://127.0.0.1:{hanging.getsockname()[1]}"
        hung = await _timed(_wrapped(command), _env(silent))
    print(f"command alone (python -c pass), median of {args.runs}: {alone * 1000:8.0f} ms")
    print(
        f"under exportbot report, server up:      {wrapped * 1000:8.0f} ms "
        f"(+{(wrapped - alone) * 1000:.0f} ms; {verified} signed calls verified)"
    )
    print(f"server down (connection refused):      {down * 1000:8.0f} ms")
    print(f"server hanging (accepts, never answers): {hung:6.1f} s (worst case)")
    mb = args.megabytes
    writer = [PY, "-c", f"import sys\nb = b'x' * 1048575 + b'\\n'\nfor _ in range({mb}): "
              "sys.stdout.buffer.write(b)"]  # fmt: skip
    async with running({"bench": KEY}) as api:
        direct = await _timed(writer, _env(api.url), count_bytes=True)
        teed = await _timed(_wrapped(writer), _env(api.url), count_bytes=True)
    copying = teed - (wrapped - alone)  # without the wrapper's own start-up and calls
    print(
        f"{mb} MB of output read through a pipe: alone {mb / direct:6.0f} MB/s, "
        f"under exportbot report {mb / teed:6.0f} MB/s ({direct / teed:.2f} of alone); "
        f"without its start-up {mb / copying:6.0f} MB/s ({direct / copying:.2f})"
    )


if __name__ == "__main__":
    asyncio.run(main())
