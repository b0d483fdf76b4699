"""GNU tar headers, byte for byte as `tarfile.TarInfo.tobuf(GNU_FORMAT)` makes them, faster.

With many small files the archive is as fast as its headers: `tobuf` builds a dictionary,
checks every field and sums the block twice, which made header building half the run time of
a tree of small files. The common header (name and link target within 100 bytes, numbers that
fit their octal fields) is packed here in one go; anything else goes to `tarfile` itself
(long-name extension blocks, base-256 numbers). tests/unit/test_tar_header.py holds the two
to the same bytes.
"""

from __future__ import annotations

import tarfile

_NUL = b"\0"
_GNU_MAGIC = tarfile.GNU_MAGIC
_SPACES = b"        "  # the checksum field counts as spaces while the block is summed
# The device fields of a non-device entry, as this Python's tarfile writes them (they
# changed across Python versions: empty in some, zeros in others).
_NO_DEVICE = tarfile.TarInfo("x").tobuf(tarfile.GNU_FORMAT)[329:345]


def gnu_header(
    name: str,
    kind: bytes,
    *,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    linkname: str,
    uname: str,
    gname: str,
    encoding: str,
) -> bytes:
    """One entry's header block(s); names are encoded with `encoding`, surrogateescape."""
    raw_name = name.encode(encoding, "surrogateescape")
    raw_link = linkname.encode(encoding, "surrogateescape")
    if (
        len(raw_name) > 100
        or len(raw_link) > 100
        or not (0 <= uid < 0o10000000 and 0 <= gid < 0o10000000)
        or not (0 <= size < 0o100000000000 and 0 <= mtime < 0o100000000000)
    ):
        return _with_tarfile(
            name, kind, mode, uid, gid, size, mtime, linkname, uname, gname, encoding
        )
    head = b"".join(
        (
            raw_name.ljust(100, _NUL),
            b"%07o\0%07o\0%07o\0%011o\0%011o\0" % (mode & 0o7777, uid, gid, size, mtime),
        )
    )
    tail = b"".join(
        (
            kind,
            raw_link.ljust(100, _NUL),
            _GNU_MAGIC,
            uname.encode(encoding, "surrogateescape")[:32].ljust(32, _NUL),
            gname.encode(encoding, "surrogateescape")[:32].ljust(32, _NUL),
            _NO_DEVICE,
        )
    )
    checksum = sum(head) + sum(_SPACES) + sum(tail)
    return b"".join((head, b"%06o\0 " % checksum, tail)).ljust(tarfile.BLOCKSIZE, _NUL)


def _with_tarfile(
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
    encoding: str,
) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = size
    info.linkname = linkname
    info.mode = mode
    info.mtime = mtime
    info.uid, info.gid = uid, gid
    info.uname, info.gname = uname, gname
    return info.tobuf(tarfile.GNU_FORMAT, encoding, "surrogateescape")
