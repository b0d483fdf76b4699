"""`compression = "zstd"`: the archive runner writes a `.tar.zst` that reads back exactly.

The archive is read with `zstandard` (and `tar --zstd` when the `zstd` program is there), never
with the code that wrote it. Retention, quotas and `quota --recount` then count it like a
`.tar.gz`.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard

import core.jobs.runners.archive as archive_module
from bot.bootstrap import PLATFORMS
from bot.config import DEMO_EXCLUDES, DEMO_SITE
from core.app.service import CommandService
from core.clock import FrozenClock
from core.domain.model import Compression, JobState, QuotaPolicy, TargetKind, TargetSpec
from core.jobs.executor import JobExecutor
from core.jobs.runners.archive import ArchiveRunner, archive_name, sweep_partial_archives
from core.jobs.runners.base import CancelToken, Progress, RunCancelled, RunFailed, RunResult
from tests.fakes import FakeStore
from tests.unit.conftest import TARGETS, RecordingJobControl, console

AT = datetime(2026, 3, 2, 10, 4, 5, tzinfo=UTC)


def zstd_spec(source: Path, out: Path, level: int | None = None) -> TargetSpec:
    return TargetSpec(
        "demo",
        TargetKind.ARCHIVE,
        source=str(source),
        archive_dir=str(out),
        exclude=DEMO_EXCLUDES,
        compression=Compression.ZSTD,
        compression_level=level,
    )


def run(
    spec: TargetSpec,
    *,
    token: CancelToken | None = None,
    progress: Callable[[Progress], None] | None = None,
    tmpfile: bool = True,
) -> RunResult:
    runner = ArchiveRunner(spec, now=lambda: AT, use_tmpfile=tmpfile)
    return runner.run(7, token or CancelToken(), progress or (lambda _p: None))


def read_back(path: str) -> dict[str, bytes | None]:
    """Every member of a `.tar.zst`, read with zstandard: file contents, None for the rest."""
    with open(path, "rb") as compressed:
        reader = zstandard.ZstdDecompressor().stream_reader(compressed)
        with tarfile.open(fileobj=reader, mode="r|") as archive:
            found: dict[str, bytes | None] = {}
            for member in archive:
                extracted = archive.extractfile(member) if member.isfile() else None
                found[member.name] = extracted.read() if extracted is not None else None
    return found


def included_files(root: Path, excluded_dirs: tuple[str, ...]) -> dict[str, bytes]:
    """The regular files under `root` outside the excluded folder names, read from disk."""
    names = {name.rstrip("/") for name in excluded_dirs}
    files: dict[str, bytes] = {}
    for folder, dirs, filenames in os.walk(root):
        dirs[:] = [d for d in dirs if d not in names]
        for filename in filenames:
            path = Path(folder) / filename
            if path.is_file() and not path.is_symlink():
                files[str(path.relative_to(root))] = path.read_bytes()
    return files


def test_a_zstd_archive_of_the_demo_tree_holds_exactly_its_included_files(tmp_path: Path) -> None:
    result = run(zstd_spec(DEMO_SITE, tmp_path))
    assert result.archive_path is not None

    members = read_back(result.archive_path)
    files = {name: data for name, data in members.items() if data is not None}
    expected = included_files(DEMO_SITE, DEMO_EXCLUDES)
    assert expected, "the demo tree has files"
    assert files == expected
    assert result.file_count == len(expected)


def test_the_demo_tree_has_what_the_exclusions_leave_out(tmp_path: Path) -> None:
    # Guards the test above: the demo's exclusions must have something to exclude.
    source = tmp_path / "src"
    shutil.copytree(DEMO_SITE, source, symlinks=True)
    (source / "node_modules" / "pkg").mkdir(parents=True)
    (source / "node_modules" / "pkg" / "index.js").write_bytes(b"module.exports = 1\n")
    (source / "css" / ".cache").mkdir()
    (source / "css" / ".cache" / "blob").write_bytes(b"cached\n")

    result = run(zstd_spec(source, tmp_path / "out"))
    assert result.archive_path is not None
    names = set(read_back(result.archive_path))

    assert not [n for n in names if "node_modules" in n or ".cache" in n]
    assert "css/site.css" in names


def test_gnu_tar_with_zstd_lists_exactly_the_included_files(tmp_path: Path) -> None:
    if shutil.which("tar") is None or shutil.which("zstd") is None:
        pytest.skip("tar --zstd needs GNU tar and the zstd program; not installed here")
    result = run(zstd_spec(DEMO_SITE, tmp_path))
    assert result.archive_path is not None

    listing = subprocess.run(
        ["tar", "--zstd", "-tf", result.archive_path], check=True, capture_output=True, text=True
    ).stdout.split("\n")

    files = {name for name in listing if name and not name.endswith("/")}
    assert files == set(included_files(DEMO_SITE, DEMO_EXCLUDES))


def test_the_archive_is_named_tar_zst_and_described_by_its_size_and_sha256(
    tmp_path: Path,
) -> None:
    result = run(zstd_spec(DEMO_SITE, tmp_path))
    assert result.archive_path is not None
    data = Path(result.archive_path).read_bytes()

    assert Path(result.archive_path).name == "demo-20260302T100405Z-job7.tar.zst"
    assert os.listdir(tmp_path) == ["demo-20260302T100405Z-job7.tar.zst"]
    assert data[:4] == b"\x28\xb5\x2f\xfd"  # the zstd frame's magic number
    assert result.size_bytes == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert archive_name("demo", AT, 7, Compression.ZSTD).endswith("-job7.tar.zst")
    assert archive_name("demo", AT, 7).endswith("-job7.tar.gz")


def test_a_job_past_many_internal_buffers_round_trips(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    expected: dict[str, bytes] = {}
    for index in range(40):  # ~6 MiB in all, over several 1 MiB chunks and queue slots
        data = os.urandom(50_000) + bytes([index]) * 100_000
        (source / f"part{index:02d}.bin").write_bytes(data)
        expected[f"part{index:02d}.bin"] = data
    big = os.urandom(1 << 20) * 3 + b"tail"  # one file spanning chunks, not block aligned
    (source / "big.bin").write_bytes(big)
    expected["big.bin"] = big

    result = run(zstd_spec(source, tmp_path / "out"))
    assert result.archive_path is not None
    members = read_back(result.archive_path)

    assert sum(len(data) for data in expected.values()) > 8 * archive_module.CHUNK
    assert {name: data for name, data in members.items() if data is not None} == expected


def test_the_level_is_the_one_configured(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "words.txt").write_bytes(b"export backup archive job " * 40_000)
    fast = run(zstd_spec(source, tmp_path / "fast", level=1))
    small = run(zstd_spec(source, tmp_path / "small", level=19))
    assert fast.size_bytes is not None and small.size_bytes is not None

    assert small.size_bytes < fast.size_bytes
    for result in (fast, small):
        assert result.archive_path is not None
        assert read_back(result.archive_path)["words.txt"] == b"export backup archive job " * 40_000


@pytest.mark.parametrize("tmpfile", [True, False])
def test_a_cancelled_run_leaves_no_partial_file(tmp_path: Path, tmpfile: bool) -> None:
    token = CancelToken()
    out = tmp_path / "out"

    def cancel(_progress: Progress) -> None:
        token.cancel("stop")

    with pytest.raises(RunCancelled):
        run(zstd_spec(DEMO_SITE, out), token=token, progress=cancel, tmpfile=tmpfile)

    assert os.listdir(out) == []


@pytest.mark.parametrize("tmpfile", [True, False])
def test_a_full_disk_fails_the_run_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tmpfile: bool
) -> None:
    real_write = os.write
    written: list[int] = []

    def fills_up(fd: int, data: bytes | memoryview) -> int:
        if threading.current_thread().name == "archive-writer":
            if written:  # the first write goes through: a partial file exists for a while
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written.append(len(data))
        return real_write(fd, data)

    monkeypatch.setattr("core.jobs.runners.archive.os.write", fills_up)
    source = tmp_path / "src"
    source.mkdir()
    (source / "random.bin").write_bytes(os.urandom(24 << 20))  # several zstd jobs
    out = tmp_path / "out"

    with pytest.raises(RunFailed) as failure:
        run(zstd_spec(source, out), tmpfile=tmpfile)

    assert failure.value.detail == f"no space left in archive folder {out}"
    assert written
    assert os.listdir(out) == []


def test_the_sweep_removes_a_partial_zstd_archive_a_crash_left(tmp_path: Path) -> None:
    (tmp_path / ".demo-20260302T100405Z-job7.tar.zst.part").write_bytes(b"\x28\xb5\x2f\xfd")
    (tmp_path / "demo-20260302T100405Z-job6.tar.zst").write_bytes(b"done")

    removed = sweep_partial_archives(str(tmp_path))

    assert removed == [str(tmp_path / ".demo-20260302T100405Z-job7.tar.zst.part")]
    assert os.listdir(tmp_path) == ["demo-20260302T100405Z-job6.tar.zst"]


async def test_retention_and_the_quota_count_zstd_archives(
    store: FakeStore, clock: FrozenClock, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    demo = replace(zstd_spec(DEMO_SITE, out), quota=QuotaPolicy(10**9), approvals_required=1)
    targets = {**TARGETS, "demo": demo}
    service = CommandService(store.uow, targets, clock, RecordingJobControl(), platforms=PLATFORMS)
    await service.execute_text(
        'schedule draft demo --cron "0 2 * * *" --tz UTC --keep 1', console("alice")
    )
    await service.execute_text("schedule submit 1", console("alice"))
    await service.execute_text("schedule review 1 approve", console("carol"))
    async with store.uow() as uow:
        active = await uow.schedules.active("demo")
    assert active is not None and active.spec.retention.keep_count == 1
    executor = JobExecutor(store.uow, targets, ArchiveRunner, clock, worker="host:1")

    for job_id in (1, 2):
        await service.execute_text("run demo", console("bob"))
        executor.launch(job_id)
        await executor.idle()
        assert store.state.jobs[job_id].state is JobState.SUCCEEDED

    kept = sorted(os.listdir(out))
    assert len(kept) == 1 and kept[0].endswith("-job2.tar.zst")
    deleted = [a for a in store.state.archives if a.deleted_at is not None]
    assert [Path(a.path).name.rsplit("-", 1)[-1] for a in deleted] == ["job1.tar.zst"]
    size = (out / kept[0]).stat().st_size
    usage = store.state.quotas["demo"]
    assert (usage.used_bytes, usage.archive_count) == (size, 1)

    # A .tar.zst nobody recorded is found by the recount, and a recorded one is counted.
    stray = out / "demo-20260302T090000Z-job9.tar.zst"
    stray.write_bytes(b"\x28\xb5\x2f\xfd")
    reply = await service.execute_text("quota demo --recount", console("alice"))
    assert "1 file not recorded." in reply.text
    assert stray.name in reply.text
    assert (store.state.quotas["demo"].used_bytes, store.state.quotas["demo"].archive_count) == (
        size,
        1,
    )


async def test_status_history_and_the_job_page_show_the_zstd_archive(
    store: FakeStore, clock: FrozenClock, tmp_path: Path
) -> None:
    demo = zstd_spec(DEMO_SITE, tmp_path / "out", level=7)
    targets = {**TARGETS, "demo": demo}
    service = CommandService(store.uow, targets, clock, RecordingJobControl(), platforms=PLATFORMS)
    executor = JobExecutor(store.uow, targets, ArchiveRunner, clock, worker="host:1")
    await service.execute_text("run demo", console("bob"))
    executor.launch(1)
    await executor.idle()
    job = store.state.jobs[1]
    assert job.state is JobState.SUCCEEDED and job.archive_path is not None
    name = Path(job.archive_path).name
    assert name.endswith(".tar.zst") and (tmp_path / "out" / name).is_file()

    status = await service.execute_text("status demo", console("bob"))
    assert "Compression: zstd, level 7" in status.text
    assert "#1 demo — succeeded" in status.text
    in_french = await service.execute_text("status demo", console("bob", "fr"))
    assert "Compression\u202f: zstd, niveau 7" in in_french.text
    plain = await service.execute_text("status site-a", console("alice"))
    assert "Compression: gzip, level 6" in plain.text
    job_status = await service.execute_text("status #1", console("bob"))
    assert f"Archive: {name}" in job_status.text
    history = await service.execute_text("history demo", console("bob"))
    assert "#1 demo — succeeded" in history.text
    page = await service.job_view(1)
    assert page is not None and name in [field.value for field in page.fields]


def test_the_zstd_stream_is_one_whole_tar_padded_to_gnu_records(tmp_path: Path) -> None:
    # Like GNU tar's output: end-of-archive blocks, then zeros up to a 10 KiB record.
    result = run(zstd_spec(DEMO_SITE, tmp_path))
    assert result.archive_path is not None
    with open(result.archive_path, "rb") as compressed:
        reader = zstandard.ZstdDecompressor().stream_reader(compressed, read_size=4096)
        whole = io.BytesIO()
        while chunk := reader.read(1000):
            whole.write(chunk)
    assert len(whole.getvalue()) % tarfile.RECORDSIZE == 0
