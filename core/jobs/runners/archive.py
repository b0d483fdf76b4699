"""Archive a folder into a `.tar.gz` or `.tar.zst`, atomically, with exclusions, progress and
cancellation.

Two threads share the work the way `tar -cz` shares it between tar and gzip: the calling
thread walks the tree and produces the tar stream in ~1 MiB chunks; a second thread
compresses, hashes and writes them (zlib, zstandard and hashlib release the GIL on big
buffers).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import grp
import hashlib
import os
import pwd
import queue
import re
import stat
import sys
import tarfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import zstandard

from core.domain.model import Compression, TargetSpec
from core.exclusions.rules import Exclusions, compile_exclusions
from core.jobs.runners.base import (
    CancelToken,
    Progress,
    ProgressCallback,
    RunCancelled,
    RunFailed,
    RunResult,
)
from core.jobs.runners.tar_header import gnu_header

CHUNK = 1 << 20  # tar stream chunk handed to the compressor, and read size for big files
QUEUE_CHUNKS = 8  # bounds memory to ~8 MiB of uncompressed data in flight
PROGRESS_EVERY = 0.5  # seconds
# zstd's own worker threads (native, outside the GIL). On a quiet 2-core machine 0 and 2 were
# close; on a busy one 2 workers kept 0.59-0.96 of `tar --zstd`'s throughput where
# compressing in the writer thread itself kept 0.48-0.91 (bench/archive.py, docs/benchmarks.md).
ZSTD_THREADS = 2
PART_SUFFIX = ".part"
_BLOCK = tarfile.BLOCKSIZE
_RECORD = tarfile.RECORDSIZE  # GNU tar pads the archive to a 10 KiB record
_FS_ENCODING = sys.getfilesystemencoding()
# O_TMPFILE errors that mean "not supported here": fall back to a named `.part` file.
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOTSUP}


def archive_name(
    target: str, at: datetime, job_id: int, compression: Compression = Compression.GZIP
) -> str:
    """`<target>-<YYYYmmddTHHMMSSZ>-job<id>.tar.gz` (`.tar.zst` with zstd); odd characters in
    the target become `_`."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", target).lstrip(".") or "archive"
    stamp = f"{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return f"{safe}-{stamp}-job{job_id}{compression.suffix}"


def sweep_partial_archives(archive_dir: str) -> list[str]:
    """Delete `.<name>.part` files a crash left behind (only the fallback path makes them).

    A `.part` still being written holds an flock, so another bot process starting up
    against the same folder leaves it alone; a killed writer's lock is gone with it.
    """
    removed: list[str] = []
    try:
        entries = list(os.scandir(archive_dir))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if not (
            entry.name.startswith(".")
            and entry.name.endswith(PART_SUFFIX)
            and entry.is_file(follow_symlinks=False)
        ):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # a live run is writing it
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(entry.path)
        finally:
            os.close(fd)
    return removed


def can_link_tmpfile(archive_dir: str) -> bool:
    """Whether an O_TMPFILE made in `archive_dir` can later be given a name there.

    Tried on an empty probe before the real run: O_TMPFILE may be missing (old kernel,
    filesystem), linking it needs /proc, and some sandboxes refuse the link (EXDEV).
    """
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        fd = os.open(archive_dir, flag | os.O_WRONLY, 0o600)
    except OSError:
        return False
    probe = os.path.join(archive_dir, f".probe-{os.getpid()}-{threading.get_ident()}{PART_SUFFIX}")
    try:
        os.link(f"/proc/self/fd/{fd}", probe, follow_symlinks=True)
    except OSError:
        return False
    else:
        with contextlib.suppress(OSError):  # a leftover probe is swept like a `.part`
            os.unlink(probe)
        return True
    finally:
        os.close(fd)


class ArchiveRunner:
    """Runs an archive target. `use_tmpfile=False` forces the `.part` fallback (tests)."""

    def __init__(
        self,
        spec: TargetSpec,
        *,
        now: Callable[[], datetime] | None = None,
        use_tmpfile: bool = True,
    ) -> None:
        self.spec = spec
        self._now = now or (lambda: datetime.now(UTC))
        self._use_tmpfile = use_tmpfile

    def run(self, job_id: int, token: CancelToken, progress: ProgressCallback) -> RunResult:
        spec = self.spec
        if token.cancelled:
            raise RunCancelled(token.reason)
        source = spec.source
        if not source:
            raise RunFailed(f"target {spec.name} has no source folder")
        if not spec.archive_dir:
            raise RunFailed(f"target {spec.name} has no archive folder")
        if not os.path.isdir(source):
            if os.path.exists(source):
                raise RunFailed(f"source {source} is not a folder")
            raise RunFailed(f"source folder {source} does not exist")
        archive_dir = os.path.abspath(spec.archive_dir)
        name = archive_name(spec.name, self._now(), job_id, spec.compression)
        final_path = os.path.join(archive_dir, name)
        try:
            os.makedirs(archive_dir, exist_ok=True)
            output = _Output.open(archive_dir, final_path, use_tmpfile=self._use_tmpfile)
        except OSError as error:
            raise RunFailed(_write_problem(archive_dir, error)) from None
        try:
            sink = _CompressingWriter(output.fd, _compressor(spec))
            try:
                excluded = compile_exclusions(spec.exclude)
                producer = _TarProducer(sink, token, progress, excluded, _dir_id(archive_dir))
                producer.add_tree(source)
                producer.close()
                progress(Progress(producer.files_done, producer.bytes_done, producer.bytes_done))
            except BaseException:
                sink.abort()
                raise
            size, digest = sink.finish()
            if token.cancelled:
                raise RunCancelled(token.reason)
            output.publish()
        except (OSError, _WriteFailed) as failure:
            output.discard()
            problem = failure.error if isinstance(failure, _WriteFailed) else failure
            if not isinstance(problem, OSError):
                raise problem from None  # a bug, not a disk problem: let the executor log it
            raise RunFailed(_write_problem(archive_dir, problem)) from None
        except BaseException:
            output.discard()
            raise
        return RunResult(
            file_count=producer.files_done,
            size_bytes=size,
            sha256=digest,
            archive_path=final_path,
        )


def _write_problem(archive_dir: str, error: OSError) -> str:
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left in archive folder {archive_dir}"
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write to archive folder {archive_dir}: permission denied"
    return f"cannot write the archive in {archive_dir}: {error.strerror or error}"


def _dir_id(path: str) -> tuple[int, int] | None:
    """Identity of the archive folder, so an archive folder inside the source is skipped."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


@dataclass
class _Output:
    """The archive file being written: an anonymous O_TMPFILE, or a named `.part` file."""

    fd: int
    final_path: str
    part_path: str | None  # None: O_TMPFILE, nothing is visible until `publish`
    closed: bool = False

    @classmethod
    def open(cls, archive_dir: str, final_path: str, *, use_tmpfile: bool) -> _Output:
        if use_tmpfile and can_link_tmpfile(archive_dir):
            try:
                fd = os.open(archive_dir, os.O_TMPFILE | os.O_WRONLY, 0o640)
                return cls(fd, final_path, None)
            except OSError as error:
                if error.errno not in _NO_TMPFILE:
                    raise
        part = os.path.join(archive_dir, f".{os.path.basename(final_path)}{PART_SUFFIX}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(part, flags, 0o640)
        fcntl.flock(fd, fcntl.LOCK_EX)  # tells `sweep_partial_archives` this one is alive
        return cls(fd, final_path, part)

    def publish(self) -> None:
        """fsync the data, give it its final name, fsync the folder so the name survives."""
        os.fsync(self.fd)
        if self.part_path is None:
            os.link(f"/proc/self/fd/{self.fd}", self.final_path, follow_symlinks=True)
            self._close()
        else:
            self._close()
            os.replace(self.part_path, self.final_path)
        dir_fd = os.open(os.path.dirname(self.final_path), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def discard(self) -> None:
        self._close()
        if self.part_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.part_path)

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self.fd)


class _WriteFailed(Exception):
    """Writing the archive failed in the writer thread (disk full, I/O error...)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _StreamCompressor(Protocol):
    """What zlib's and zstandard's compression objects have in common."""

    def compress(self, data: bytes | bytearray, /) -> bytes: ...

    def flush(self) -> bytes: ...


def _compressor(spec: TargetSpec) -> _StreamCompressor:
    """A fresh compression stream for the target's algorithm and level."""
    level = spec.compression_level or spec.compression.default_level
    if spec.compression is Compression.ZSTD:
        # The frame carries the content checksum, as the `zstd` tool writes it by default.
        options = zstandard.ZstdCompressor(level=level, write_checksum=True, threads=ZSTD_THREADS)
        return options.compressobj()
    return zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: gzip framing


class _CompressingWriter:
    """Second thread: compress, sha256 and write the chunks handed over by `put`."""

    def __init__(self, fd: int, compressor: _StreamCompressor) -> None:
        self._fd = fd
        self._queue: queue.Queue[bytes | bytearray | None] = queue.Queue(QUEUE_CHUNKS)
        self._compressor = compressor
        self._hash = hashlib.sha256()
        self._size = 0
        self._aborted = False
        self.error: Exception | None = None
        self._thread = threading.Thread(target=self._loop, name="archive-writer", daemon=True)
        self._thread.start()

    def put(self, chunk: bytes | bytearray) -> None:
        if self.error is not None:
            raise _WriteFailed(self.error)  # e.g. the disk filled up: stop reading the tree
        self._queue.put(chunk)

    def finish(self) -> tuple[int, str]:
        """Flush the compressor's trailer; return (archive size, sha256 hex)."""
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise _WriteFailed(self.error)
        return self._size, self._hash.hexdigest()

    def abort(self) -> None:
        self._aborted = True
        self._queue.put(None)  # never blocks for long: the loop drains until it sees None
        self._thread.join()

    def _loop(self) -> None:
        # Keeps draining after an error or abort so that `put` can never block forever.
        while (chunk := self._queue.get()) is not None:
            if self.error is None and not self._aborted:
                try:
                    self._write(self._compressor.compress(chunk))
                except Exception as error:
                    self.error = error
        if self.error is None and not self._aborted:
            try:
                self._write(self._compressor.flush())
            except Exception as error:
                self.error = error

    def _write(self, data: bytes) -> None:
        if not data:
            return
        self._hash.update(data)
        self._size += len(data)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]


class _TarProducer:
    """Walks the source and builds the tar stream (GNU format, like GNU tar's default)."""

    def __init__(
        self,
        sink: _CompressingWriter,
        token: CancelToken,
        progress: ProgressCallback,
        excluded: Exclusions,
        skip_dir: tuple[int, int] | None,
    ) -> None:
        self._sink = sink
        self._token = token
        self._progress = progress
        self._excluded = excluded
        self._skip_dir = skip_dir
        self._buf = bytearray()
        self._handed_over = 0  # bytes of tar stream already given to the sink
        self._last_report = -PROGRESS_EVERY  # the first file reports at once
        self._users: dict[int, str] = {}
        self._groups: dict[int, str] = {}
        self.files_done = 0
        self.bytes_done = 0

    def add_tree(self, root: str) -> None:
        # Depth-first with an explicit stack (deep trees must not hit the recursion limit);
        # a folder's header always precedes its contents, siblings come in name order.
        stack: list[tuple[str, str]] = [(root, "")]
        while stack:
            path, prefix = stack.pop()
            subdirs: list[tuple[str, str]] = []
            for entry in self._list(path, prefix):
                self._check_cancel()
                relative = prefix + entry.name
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # vanished since the listing
                except OSError as error:
                    raise RunFailed(f"cannot read {relative}: {error.strerror}") from None
                mode = st.st_mode
                if stat.S_ISDIR(mode):
                    if (st.st_dev, st.st_ino) == self._skip_dir or self._excluded.excludes_dir(
                        relative + "/", entry.path
                    ):
                        continue  # pruned: an excluded folder is never walked
                    self._emit(self._header(relative + "/", st, tarfile.DIRTYPE))
                    subdirs.append((entry.path, relative + "/"))
                elif stat.S_ISREG(mode):
                    if not self._excluded.excludes_file(relative, st.st_size):
                        self._add_file(entry.path, relative, st)
                elif stat.S_ISLNK(mode) and not self._excluded.excludes_file(relative):
                    self._add_symlink(entry.path, relative, st)
                # sockets, fifos and devices are not data worth exporting: skipped
            stack.extend(reversed(subdirs))

    def close(self) -> None:
        """End-of-archive blocks, padded to a full record, then hand over the rest."""
        self._emit(bytes(2 * _BLOCK))
        self._emit(bytes(-(self._handed_over + len(self._buf)) % _RECORD))  # of the whole stream
        if self._buf:
            self._sink.put(self._buf)
            self._buf = bytearray()

    def _list(self, path: str, prefix: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(path) as it:
                return sorted(it, key=lambda entry: entry.name)
        except (FileNotFoundError, NotADirectoryError):
            if not prefix:
                raise RunFailed(f"source folder {path} does not exist") from None
            return []  # vanished mid-walk
        except PermissionError:
            raise RunFailed(f"cannot read {prefix or path}: permission denied") from None
        except OSError as error:
            raise RunFailed(f"cannot read {prefix or path}: {error.strerror}") from None

    def _add_file(self, path: str, relative: str, st: os.stat_result) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            return  # vanished since the listing
        except PermissionError:
            raise RunFailed(f"cannot read {relative}: permission denied") from None
        except OSError as error:
            if error.errno == errno.ELOOP:
                return  # replaced by a symlink since the listing
            raise RunFailed(f"cannot read {relative}: {error.strerror}") from None
        try:
            size = st.st_size  # the header is written first, so we store exactly this many
            self._emit(self._header(relative, st, tarfile.REGTYPE, size=size))
            left = size
            while left > 0:
                try:
                    data = os.read(fd, min(left, CHUNK))
                except OSError as error:
                    raise RunFailed(f"cannot read {relative}: {error.strerror}") from None
                if not data:  # shrank while we read: pad with zeros, as GNU tar does
                    data = bytes(min(left, CHUNK))
                left -= len(data)
                self._emit(data)
                self.bytes_done += len(data)
                if left:
                    self._check_cancel()
                    self._report()
            self._emit(bytes(-size % _BLOCK))
        finally:
            os.close(fd)
        self.files_done += 1
        self._report()

    def _add_symlink(self, path: str, relative: str, st: os.stat_result) -> None:
        try:
            target = os.readlink(path)
        except (FileNotFoundError, OSError):
            return  # vanished or replaced since the listing
        self._emit(self._header(relative, st, tarfile.SYMTYPE, linkname=target))
        self.files_done += 1
        self._report()

    def _header(
        self, name: str, st: os.stat_result, kind: bytes, *, size: int = 0, linkname: str = ""
    ) -> bytes:
        return gnu_header(
            name,
            kind,
            mode=stat.S_IMODE(st.st_mode),
            uid=st.st_uid,
            gid=st.st_gid,
            size=size,
            mtime=int(st.st_mtime),
            linkname=linkname,
            uname=self._name_of(self._users, st.st_uid, _user_name),
            gname=self._name_of(self._groups, st.st_gid, _group_name),
            encoding=_FS_ENCODING,
        )

    @staticmethod
    def _name_of(cache: dict[int, str], key: int, lookup: Callable[[int], str]) -> str:
        name = cache.get(key)
        if name is None:
            name = cache[key] = lookup(key)
        return name

    def _emit(self, data: bytes | bytearray) -> None:
        self._buf += data
        if len(self._buf) >= CHUNK:
            self._handed_over += len(self._buf)
            self._sink.put(self._buf)
            self._buf = bytearray()

    def _check_cancel(self) -> None:
        if self._token.cancelled:
            raise RunCancelled(self._token.reason)

    def _report(self) -> None:
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_EVERY:
            self._last_report = now
            self._progress(Progress(self.files_done, self.bytes_done))


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return ""


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return ""
