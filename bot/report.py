"""`exportbot report --target T [--url URL] [--key-file F] -- <command> [args…]`.

Signals a run's start, runs the command without a shell (its output still reaches the
terminal or cron's mail as it comes, while the last 100 KB are kept), then sends its exit
status, duration and the redacted tail, and exits with the command's own status (128+N when a
signal N ended it). The backup always runs: a missing key or URL, a server that is down or a
refusal is said on stderr and nothing else changes.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

from bot.report_client import TAIL_LIMIT, ApiKey, BadApiKey, ReportClient
from core.safety.redaction import redact

EXIT_USAGE = 2
EXIT_NOT_FOUND = 127  # what a shell answers for a command it cannot find
EXIT_NOT_EXECUTABLE = 126
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # sent to us alone: pass them on
PREFIX = "exportbot report: "


class _Parser(argparse.ArgumentParser):
    """Says what was wrong even about arguments that are not text (undecodable bytes arrive
    in argv as lone surrogates, which a strict stderr would refuse)."""

    def _print_message(self, message: str, file: SupportsWrite[str] | None = None) -> None:
        super()._print_message(printable(message), file)


def printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="exportbot report",
        description="Run a command and report it to exportbot as a job of a `reported` target.",
        epilog="Example: exportbot report --target db -- pg_dump --file=/backups/db.sql app",
    )
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", required=True, help="the reported target's name")
    parser.add_argument("--url", help="the bot's base URL (or EXPORTBOT_API_URL)")
    parser.add_argument(
        "--key-file", help="a file holding the API key N.<secret> (or EXPORTBOT_API_KEY)"
    )


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Our options before the first `--`, the command after it."""
    args = list(argv)
    if "--" not in args:
        return args, []
    at = args.index("--")
    return args[:at], args[at + 1 :]


@dataclass(frozen=True)
class Reporting:
    url: str
    key: ApiKey


def reporting(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[Reporting | None, str]:
    """Where and with which key to report, or why it cannot (in words for stderr)."""
    url = (args.url or environ.get("EXPORTBOT_API_URL", "")).strip()
    if not url:
        return None, "no URL: set EXPORTBOT_API_URL or give --url"
    try:
        parsed = urllib.parse.urlsplit(url)
        parsed.port  # noqa: B018 -- a port that is not a number raises here, not at the call
    except ValueError:
        parsed = urllib.parse.urlsplit("")
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        return None, f"the URL {url[:80]!r} is not http(s)://host[:port]"
    if args.key_file:
        try:
            text = Path(args.key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            return None, f"cannot read the key file {args.key_file}: {error}"
    else:
        text = environ.get("EXPORTBOT_API_KEY", "")
        if not text.strip():
            return None, "no API key: set EXPORTBOT_API_KEY or give --key-file"
    try:
        return Reporting(url, ApiKey.parse(text)), ""
    except BadApiKey as error:
        return None, str(error)


class Tail:
    """The last `limit` bytes of everything written to it, from several threads.

    Each stream's bytes are kept in whole lines: the command's stdout and stderr arrive in
    chunks that may end mid-line, and two streams' halves glued together would mangle both
    lines and could split a secret out of the redaction's reach.
    """

    def __init__(self, limit: int = TAIL_LIMIT) -> None:
        self._limit = limit
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._partial: dict[str, bytes] = {}  # each stream's line begun but not ended
        self._lock = threading.Lock()

    def add(self, chunk: bytes, stream: str = "") -> None:
        with self._lock:
            pending = self._partial.pop(stream, b"") + chunk
            end = pending.rfind(b"\n") + 1
            if len(pending) - end >= self._limit:  # a line longer than the tail: keep its end
                end = len(pending)
            if end:
                self._append(pending[:end])
            if end < len(pending):
                self._partial[stream] = pending[end:]

    def _append(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        # Drop whole chunks that lie entirely before the last `limit` bytes.
        while self._size - len(self._chunks[0]) >= self._limit:
            self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        """The tail, redacted, at most `limit` bytes once encoded."""
        with self._lock:
            data = b"".join(self._chunks) + b"\n".join(self._partial.values())
        data = data[-self._limit :]
        cleaned = redact(data.decode("utf-8", errors="replace"))
        encoded = cleaned.encode("utf-8")[-self._limit :]
        return encoded.decode("utf-8", errors="ignore")


def _tee(source: BinaryIO, sink: BinaryIO, tail: Tail, stream: str) -> None:
    """Copy `source` to `sink` as it comes, keeping the tail; a closed sink only stops the
    copy, never the reading (the command must not block on a full pipe)."""
    writing = True
    fd = source.fileno()
    try:
        sink.flush()  # what Python buffered before goes first
        out = sink.fileno()
    except (OSError, ValueError):
        writing, out = False, -1
    while chunk := os.read(fd, 1 << 16):
        tail.add(chunk, stream)
        view = memoryview(chunk)
        while writing and view:
            try:
                view = view[os.write(out, view) :]
            except OSError:
                writing = False
    source.close()


def run_teed(command: Sequence[str], tail: Tail) -> int:
    """Run `command` (no shell), its stdout and stderr copied to ours and into `tail`;
    return its exit status, 128+N for a signal, 127/126 when it could not start."""
    try:
        process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except (FileNotFoundError, NotADirectoryError) as error:
        return _not_started(command, error, EXIT_NOT_FOUND, tail)
    except OSError as error:
        return _not_started(command, error, EXIT_NOT_EXECUTABLE, tail)
    assert process.stdout is not None and process.stderr is not None
    copies = [
        threading.Thread(
            target=_tee, args=(process.stdout, sys.stdout.buffer, tail, "stdout"), daemon=True
        ),
        threading.Thread(
            target=_tee, args=(process.stderr, sys.stderr.buffer, tail, "stderr"), daemon=True
        ),
    ]
    for copy in copies:
        copy.start()
    previous = _forward_signals(process)
    try:
        status = process.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for copy in copies:
        copy.join()
    return 128 - status if status < 0 else status


def _forward_signals(process: subprocess.Popen[bytes]) -> dict[int, Any]:
    """SIGTERM and SIGHUP (cron's or systemd's stop) go on to the command, so it ends its own
    way and we report how; Ctrl-C already reaches it through the terminal's process group."""

    def forward(signum: int, _: FrameType | None) -> None:
        if process.poll() is None:
            process.send_signal(signum)

    previous: dict[int, Any] = {}
    for signum in (*FORWARDED_SIGNALS, signal.SIGINT):
        handler = forward if signum in FORWARDED_SIGNALS else signal.SIG_IGN
        previous[signum] = signal.signal(signum, handler)
    return previous


def _not_started(command: Sequence[str], error: OSError, status: int, tail: Tail) -> int:
    line = printable(f"{PREFIX}cannot run {command[0]!r}: {error.strerror or error}\n")
    sys.stderr.write(line)
    tail.add(line.encode(), "stderr")
    return status


def warn(text: str) -> None:
    sys.stderr.write(printable(f"{PREFIX}{text}\n"))
    sys.stderr.flush()


def report_main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """The whole of `exportbot report`; its exit status is the command's."""
    options, command = split_command(argv)
    parser = build_parser()
    args = parser.parse_args(options)  # a usage error exits 2 before anything runs
    if not command:
        parser.error("give the command to run after `--`, e.g. -- restic backup /srv")
    found, problem = reporting(args, os.environ if environ is None else environ)
    client = ReportClient(found.url, found.key, args.target) if found else None
    if client is None:
        warn(f"not reporting this run ({problem}); running the command anyway")
    rid = uuid.uuid4().hex
    line = redact(shlex.join(command))
    host = socket.gethostname()
    started = False
    if client is not None:
        outcome = client.start(rid, host, line)
        started = outcome.ok
        if not outcome.ok:
            warn(
                f"could not report the start to {found and found.url} ({outcome.reason}); "
                "running the command anyway"
            )
    began = time.monotonic()
    tail = Tail()
    status = run_teed(command, tail)
    duration = time.monotonic() - began
    if client is not None:
        if started:
            outcome = client.finish(rid, status, duration, tail.text())
        else:  # the server may be back: one call says it all
            outcome = client.report(rid, host, line, status, duration, tail.text())
        if not outcome.ok:
            warn(f"could not report the end ({outcome.reason}); exit status {status} kept")
    return status
