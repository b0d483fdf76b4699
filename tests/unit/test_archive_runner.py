"""ArchiveRunner on real files in tmp_path: exclusions, integrity, atomicity, cancellation."""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

import core.jobs.runners.archive as archive_module
from core.domain.model import TargetKind, TargetSpec
from core.jobs.runners.archive import (
    ArchiveRunner,
    archive_name,
    can_link_tmpfile,
    sweep_partial_archives,
)
from core.jobs.runners.base import CancelToken, Progress, RunCancelled, RunFailed, RunResult

REPO_ROOT = Path(__file__).resolve().parents[2]
EXCLUDES = ("node_modules/", ".cache/", "cache/", "*.log", "!keep.log", "*.mp4")
BIG = 3 * (1 << 20) + 123  # several chunks, and not a multiple of the tar block size
AT = datetime(2026, 3, 2, 10, 4, 5, tzinfo=UTC)


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    write(root / "README.md", b"# hello\n")
    write(root / "docs" / "guide.txt", b"guide " * 200)
    write(root / "docs" / "empty.txt", b"")
    write(root / "data" / "big.bin", os.urandom(BIG // 2) + b"z" * (BIG - BIG // 2))
    write(root / "keep.log", b"kept despite *.log\n")
    write(root / "logs" / "debug.log", b"dropped\n")
    write(root / "media" / "clip.mp4", b"\x00" * 100)
    write(root / "node_modules" / "pkg" / "index.js", b"module.exports = 1\n")
    write(root / ".cache" / "blob", b"cached\n")
    write(root / "src" / "cache" / "entry", b"nested cache folder\n")
    write(root / "src" / "cachet.py", b"# not a cache folder\n")
    (root / "empty-dir").mkdir()
    os.symlink("docs/guide.txt", root / "link-to-guide")
    os.symlink("/nonexistent/target", root / "dangling")
    return root


def spec_for(source: Path, archive_dir: Path, exclude: tuple[str, ...] = EXCLUDES) -> TargetSpec:
    return TargetSpec(
        "site-a",
        TargetKind.ARCHIVE,
        source=str(source),
        archive_dir=str(archive_dir),
        exclude=exclude,
    )


def run(
    spec: TargetSpec,
    *,
    token: CancelToken | None = None,
    progress: Callable[[Progress], None] | None = None,
    use_tmpfile: bool = True,
) -> RunResult:
    runner = ArchiveRunner(spec, now=lambda: AT, use_tmpfile=use_tmpfile)
    return runner.run(7, token or CancelToken(), progress or (lambda _p: None))


def members(result: RunResult) -> dict[str, tarfile.TarInfo]:
    assert result.archive_path is not None
    with tarfile.open(result.archive_path, "r:gz") as archive:
        return {member.name: member for member in archive.getmembers()}


# What the fixture's tree archives to with EXCLUDES (folders aside).
EXPECTED_FILES = {
    "README.md",
    "docs/guide.txt",
    "docs/empty.txt",
    "data/big.bin",
    "keep.log",
    "src/cachet.py",
    "link-to-guide",
    "dangling",
}
SYMLINKS = {"link-to-guide", "dangling"}


def test_excluded_directories_are_not_in_the_archive(source: Path, tmp_path: Path) -> None:
    names = set(members(run(spec_for(source, tmp_path / "out"))))

    assert not {name for name in names if name.startswith(("node_modules", ".cache"))}
    assert "src/cache" not in names
    assert "src/cache/entry" not in names
    assert "src/cachet.py" in names


def test_excluded_directories_are_never_walked(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned: list[str] = []
    real_scandir = os.scandir

    def recording_scandir(path: str) -> object:
        scanned.append(os.path.relpath(path, source))
        return real_scandir(path)

    monkeypatch.setattr("core.jobs.runners.archive.os.scandir", recording_scandir)
    run(spec_for(source, tmp_path / "out"))

    assert not [path for path in scanned if "node_modules" in path or "cache" in path]
    assert "docs" in scanned


def test_glob_and_negated_patterns_pick_files(source: Path, tmp_path: Path) -> None:
    names = set(members(run(spec_for(source, tmp_path / "out"))))

    assert "keep.log" in names  # re-included by !keep.log
    assert "logs/debug.log" not in names
    assert "media/clip.mp4" not in names
    assert "media" in names  # the folder stays, only its content is excluded


def test_archive_holds_exactly_the_source_files_with_their_contents(
    source: Path, tmp_path: Path
) -> None:
    result = run(spec_for(source, tmp_path / "out"))
    assert result.archive_path is not None

    with tarfile.open(result.archive_path, "r:gz") as archive:
        files = {m.name for m in archive.getmembers() if not m.isdir()}
        assert files == EXPECTED_FILES
        for name in files - SYMLINKS:
            extracted = archive.extractfile(name)
            assert extracted is not None
            assert extracted.read() == (source / name).read_bytes(), name
        folders = {m.name for m in archive.getmembers() if m.isdir()}
    assert folders == {"data", "docs", "empty-dir", "logs", "media", "src"}


def test_gnu_tar_can_list_the_archive(source: Path, tmp_path: Path) -> None:
    if shutil.which("tar") is None:
        pytest.skip("GNU tar is not installed")
    result = run(spec_for(source, tmp_path / "out"))
    assert result.archive_path is not None

    listing = subprocess.run(
        ["tar", "-tzf", result.archive_path], check=True, capture_output=True, text=True
    ).stdout.split()

    assert {name for name in listing if not name.endswith("/")} == EXPECTED_FILES


def test_file_count_size_and_sha256_describe_the_archive(source: Path, tmp_path: Path) -> None:
    result = run(spec_for(source, tmp_path / "out"))
    assert result.archive_path is not None
    data = Path(result.archive_path).read_bytes()

    assert result.file_count == len(EXPECTED_FILES)  # folders are not counted
    assert result.size_bytes == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_symlinks_are_stored_as_symlinks_not_followed(source: Path, tmp_path: Path) -> None:
    found = members(run(spec_for(source, tmp_path / "out")))

    assert found["link-to-guide"].issym()
    assert found["link-to-guide"].linkname == "docs/guide.txt"
    assert found["dangling"].issym()
    assert found["dangling"].linkname == "/nonexistent/target"


def test_archive_name_has_target_utc_time_and_job(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run(spec_for(source, Path("relative-out")))

    assert result.archive_path == str(
        tmp_path / "relative-out" / "site-a-20260302T100405Z-job7.tar.gz"
    )
    assert os.listdir(tmp_path / "relative-out") == ["site-a-20260302T100405Z-job7.tar.gz"]


def test_archive_name_converts_to_utc_and_sanitises_the_target() -> None:
    from datetime import timedelta, timezone

    paris = datetime(2026, 3, 2, 11, 0, tzinfo=timezone(timedelta(hours=1)))

    assert archive_name("a/b c", paris, 3) == "a_b_c-20260302T100000Z-job3.tar.gz"


def test_archive_folder_is_created_when_missing(source: Path, tmp_path: Path) -> None:
    result = run(spec_for(source, tmp_path / "a" / "b" / "out"))

    assert result.archive_path is not None
    assert Path(result.archive_path).is_file()


def test_cancelling_from_progress_leaves_no_file_in_the_archive_folder(
    source: Path, tmp_path: Path
) -> None:
    token = CancelToken()
    out = tmp_path / "out"

    with pytest.raises(RunCancelled):
        run(spec_for(source, out), token=token, progress=lambda _p: token.cancel("stop"))

    assert os.listdir(out) == []


def test_cancelling_in_the_fallback_mode_removes_the_part_file(
    source: Path, tmp_path: Path
) -> None:
    token = CancelToken()
    out = tmp_path / "out"

    with pytest.raises(RunCancelled):
        run(
            spec_for(source, out),
            token=token,
            progress=lambda _p: token.cancel(),
            use_tmpfile=False,
        )

    assert os.listdir(out) == []


def test_missing_source_fails_with_a_short_message_and_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"

    with pytest.raises(RunFailed) as failure:
        run(spec_for(tmp_path / "nope", out))

    assert failure.value.detail == f"source folder {tmp_path / 'nope'} does not exist"
    assert not out.exists() or os.listdir(out) == []


def test_archive_folder_that_is_a_file_fails(source: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")

    with pytest.raises(RunFailed) as failure:
        run(spec_for(source, blocker / "out"))

    assert failure.value.detail.startswith(f"cannot write the archive in {blocker / 'out'}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_archive_folder_fails_with_permission_denied(
    source: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o500)

    with pytest.raises(RunFailed) as failure:
        run(spec_for(source, out))

    assert failure.value.detail == f"cannot write to archive folder {out}: permission denied"


@pytest.mark.parametrize("use_tmpfile", [True, False])
def test_full_disk_fails_and_leaves_nothing(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_tmpfile: bool
) -> None:
    real_write = os.write

    def full_disk(fd: int, data: bytes | memoryview) -> int:
        if threading.current_thread().name == "archive-writer":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr("core.jobs.runners.archive.os.write", full_disk)
    out = tmp_path / "out"

    with pytest.raises(RunFailed) as failure:
        run(spec_for(source, out), use_tmpfile=use_tmpfile)

    assert failure.value.detail == f"no space left in archive folder {out}"
    assert os.listdir(out) == []


def test_files_vanishing_mid_walk_are_skipped(source: Path, tmp_path: Path) -> None:
    vanished: list[Path] = []

    def delete_some(_progress: Progress) -> None:
        if not vanished:  # the first report comes after the first file (README.md)
            vanished.extend([source / "keep.log", source / "src" / "cachet.py"])
            for path in vanished:
                path.unlink()
            shutil.rmtree(source / "docs")

    result = run(spec_for(source, tmp_path / "out"), progress=delete_some)
    names = set(members(result))

    assert "README.md" in names
    assert "src/cachet.py" not in names
    assert "docs/guide.txt" not in names


def test_progress_reports_files_and_bytes(source: Path, tmp_path: Path) -> None:
    reports: list[Progress] = []

    result = run(spec_for(source, tmp_path / "out"), progress=reports.append)

    assert reports, "at least the first file and the end are reported"
    assert reports[-1].files_done == result.file_count
    assert reports[-1].bytes_done == sum(
        (source / name).stat().st_size for name in EXPECTED_FILES - SYMLINKS
    )


def test_fallback_without_o_tmpfile_writes_the_same_archive(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delattr("core.jobs.runners.archive.os.O_TMPFILE", raising=False)
    out = tmp_path / "out"

    result = run(spec_for(source, out))

    assert {m for m in members(result) if not members(result)[m].isdir()} == EXPECTED_FILES
    assert os.listdir(out) == [Path(str(result.archive_path)).name]  # no .part left behind


def test_forced_fallback_mode_writes_a_valid_archive(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"

    result = run(spec_for(source, out), use_tmpfile=False)
    data = Path(str(result.archive_path)).read_bytes()

    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert os.listdir(out) == [Path(str(result.archive_path)).name]


@pytest.mark.skipif(
    not can_link_tmpfile(os.environ.get("TMPDIR", "/tmp")),
    reason="O_TMPFILE files cannot be linked here (sandbox or filesystem)",
)
def test_o_tmpfile_mode_publishes_with_its_final_name(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    assert can_link_tmpfile(str(out))

    result = run(spec_for(source, out))

    assert os.listdir(out) == [Path(str(result.archive_path)).name]


def test_o_tmpfile_mode_publishes_through_proc_self_fd(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where linkat is refused (this sandbox), emulate it to check the O_TMPFILE flow itself."""
    links: list[tuple[str, str]] = []

    def emulated_link(src: str, dst: str, *, follow_symlinks: bool = True) -> None:
        assert src.startswith("/proc/self/fd/") and follow_symlinks
        assert not os.path.exists(dst)
        with open(src, "rb") as anonymous, open(dst, "xb") as named:
            shutil.copyfileobj(anonymous, named)
        links.append((src, dst))

    monkeypatch.setattr(archive_module, "can_link_tmpfile", lambda _dir: True)
    monkeypatch.setattr("core.jobs.runners.archive.os.link", emulated_link)
    out = tmp_path / "out"

    result = run(spec_for(source, out))
    data = Path(str(result.archive_path)).read_bytes()

    assert [dst for _src, dst in links] == [result.archive_path]
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert {n for n, m in members(result).items() if not m.isdir()} == EXPECTED_FILES
    assert os.listdir(out) == [Path(str(result.archive_path)).name]


def test_sweep_partial_archives_removes_only_part_files(tmp_path: Path) -> None:
    (tmp_path / ".site-a-20260302T100405Z-job7.tar.gz.part").write_bytes(b"half")
    (tmp_path / "site-a-20260302T100405Z-job6.tar.gz").write_bytes(b"done")
    (tmp_path / "notes.part").write_bytes(b"not ours: not hidden")

    removed = sweep_partial_archives(str(tmp_path))

    assert removed == [str(tmp_path / ".site-a-20260302T100405Z-job7.tar.gz.part")]
    assert sorted(os.listdir(tmp_path)) == ["notes.part", "site-a-20260302T100405Z-job6.tar.gz"]
    assert sweep_partial_archives(str(tmp_path / "missing")) == []


def test_sweep_spares_a_part_file_that_a_live_run_is_writing(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    swept: list[list[str]] = []
    seen: list[list[str]] = []

    def sweep_midway(_progress: Progress) -> None:
        if not swept:
            seen.append(os.listdir(out))
            swept.append(sweep_partial_archives(str(out)))

    result = run(spec_for(source, out), progress=sweep_midway, use_tmpfile=False)

    assert seen == [[".site-a-20260302T100405Z-job7.tar.gz.part"]]
    assert swept == [[]]
    assert os.listdir(out) == [Path(str(result.archive_path)).name]


SLOW_ARCHIVER = """
import sys, time
import core.jobs.runners.archive as archive
from core.domain.model import TargetKind, TargetSpec
from core.jobs.runners.base import CancelToken

source, out, mode = sys.argv[1:]
if mode == "tmpfile":
    archive.can_link_tmpfile = lambda _dir: True  # the kill comes before the link anyway

def stall(_progress):
    print("writing", flush=True)
    time.sleep(60)

spec = TargetSpec("slow", TargetKind.ARCHIVE, source=source, archive_dir=out)
archive.ArchiveRunner(spec, use_tmpfile=mode == "tmpfile").run(1, CancelToken(), stall)
"""


def _bytes_being_written(pid: int, out: Path, mode: str) -> int:
    if mode == "part":
        return sum(path.stat().st_size for path in out.glob(".*.part"))
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(f"{out}/#") and target.endswith("(deleted)"):
            return os.stat(f"/proc/{pid}/fd/{fd}").st_size
    return 0


@pytest.mark.parametrize("mode", ["tmpfile", "part"])
def test_killed_process_leaves_no_archive(tmp_path: Path, mode: str) -> None:
    """SIGKILL mid-write: O_TMPFILE leaves nothing; the fallback a .part that the sweep removes."""
    source = tmp_path / "src"
    write(source / "a-big.bin", os.urandom(4 << 20))
    write(source / "b.txt", b"after the stall")
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_ARCHIVER, str(source), str(out), mode],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == b"writing\n"
        deadline = time.monotonic() + 10
        while _bytes_being_written(child.pid, out, mode) == 0:
            assert time.monotonic() < deadline, "the archive never started to be written"
            time.sleep(0.02)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    if mode == "part":
        left = os.listdir(out)
        assert left and all(n.startswith(".slow-") and n.endswith(".tar.gz.part") for n in left)
        assert len(sweep_partial_archives(str(out))) == len(left)
    assert os.listdir(out) == []


def test_archive_folder_inside_the_source_is_not_archived(source: Path) -> None:
    out = source / "backups"
    first = run(spec_for(source, out))
    second = ArchiveRunner(spec_for(source, out), now=lambda: AT).run(
        8, CancelToken(), lambda _p: None
    )

    assert not [name for name in members(second) if name.startswith("backups")]
    assert first.archive_path != second.archive_path
