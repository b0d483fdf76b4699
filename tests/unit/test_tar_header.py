"""The fast GNU header is the very header `tarfile` writes, for any name a disk can hold."""

from __future__ import annotations

import tarfile

from hypothesis import given, settings
from hypothesis import strategies as st

from core.jobs.runners.tar_header import gnu_header

ENCODING = "utf-8"
KINDS = st.sampled_from([tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE])
# Names as os.scandir gives them: any text without NUL or '/', undecodable bytes as surrogates.
NAMES = st.one_of(
    st.text(st.characters(blacklist_characters="\0/", blacklist_categories=["Cs"]), max_size=120),
    st.binary(max_size=120)
    .map(lambda raw: raw.replace(b"\0", b"_").replace(b"/", b"_"))
    .map(lambda raw: raw.decode(ENCODING, "surrogateescape")),
).filter(bool)
# Around each octal field's limit, where the fast path must hand over to tarfile.
IDS = st.one_of(st.integers(0, 70_000), st.integers(0o7777770, 0o10000010), st.just(2**32 - 2))
SIZES = st.one_of(st.integers(0, 10**7), st.integers(0o77777777770, 0o100000000010))
TIMES = st.one_of(st.integers(0, 2**33), st.just(0o77777777777), st.integers(-(2**31), -1))
USERS = st.text(st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]), max_size=40)


def reference(
    name: str, kind: bytes, mode: int, ids: tuple[int, int], size: int, mtime: int, link: str,
    users: tuple[str, str],
) -> bytes:  # fmt: skip
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname, info.mode, info.mtime = kind, size, link, mode, mtime
    info.uid, info.gid = ids
    info.uname, info.gname = users
    return info.tobuf(tarfile.GNU_FORMAT, ENCODING, "surrogateescape")


@settings(max_examples=400, deadline=None)
@given(
    name=NAMES,
    kind=KINDS,
    mode=st.integers(0, 0o177777),
    uid=IDS,
    gid=IDS,
    size=SIZES,
    mtime=TIMES,
    linkname=st.one_of(st.just(""), NAMES),
    uname=USERS,
    gname=USERS,
)
def test_the_fast_header_is_byte_for_byte_the_header_tarfile_writes(
    name: str,
    kind: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    linkname: str,
    uname: str,
    gname: str,
) -> None:
    if kind == tarfile.DIRTYPE:
        name += "/"  # the runner names folders with their slash, as tarfile would add it
    ours = gnu_header(
        name,
        kind,
        mode=mode,
        uid=uid,
        gid=gid,
        size=size,
        mtime=mtime,
        linkname=linkname,
        uname=uname,
        gname=gname,
        encoding=ENCODING,
    )
    expected = reference(name, kind, mode, (uid, gid), size, mtime, linkname, (uname, gname))
    assert ours == expected


def test_a_common_header_reads_back_with_its_fields() -> None:
    block = gnu_header(
        "docs/guide.txt",
        tarfile.REGTYPE,
        mode=0o100644,
        uid=1000,
        gid=1000,
        size=1200,
        mtime=1_770_000_000,
        linkname="",
        uname="alice",
        gname="staff",
        encoding=ENCODING,
    )
    info = tarfile.TarInfo.frombuf(block, ENCODING, "surrogateescape")

    assert len(block) == tarfile.BLOCKSIZE
    assert (info.name, info.size, info.mode, info.mtime) == (
        "docs/guide.txt",
        1200,
        0o644,
        1_770_000_000,
    )
    assert (info.uname, info.gname, info.uid, info.gid) == ("alice", "staff", 1000, 1000)
