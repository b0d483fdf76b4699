"""The Teams app icons, drawn in pure Python: an arrow leaving a tray (an export).

Teams wants two PNGs in the app package: `color.png`, 192×192 in full colour, and
`outline.png`, 32×32, white on a transparent background. Both are drawn here from the same
glyph, so the package needs no binary assets and no imaging library.

The PNG data is written as *stored* (uncompressed) deflate blocks rather than with
`zlib.compress`: compressed bytes differ between zlib builds (zlib-ng, which some
distributions ship as their zlib, compresses differently), and the checked-in copies under
`manifest/teams/` must come out byte for byte the same on every machine. The colour icon is
indexed (a palette of a few dozen colours) to keep it small all the same.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence
from functools import cache

BRAND_COLOR = "#1d4e89"  # the Slack listing's background too: one colour for the app
COLOR_SIZE = 192
OUTLINE_SIZE = 32

# Teams' icon guidance: the colour icon's symbol sits in the central 96×96 of its 192×192;
# the outline icon's symbol fills most of its 32×32 with a little padding.
_COLOR_GLYPH_BOX = (48.0, 48.0, 96.0)  # left, top, side, in pixels
_OUTLINE_GLYPH_BOX = (3.0, 3.0, 26.0)
_CORNER_RADIUS = 40.0  # of the colour icon's rounded square
_SAMPLES = 4  # per axis and pixel: 16 samples give smooth edges on the colour icon

RGBA = tuple[int, int, int, int]
Shape = Callable[[float, float], bool]
WHITE: RGBA = (255, 255, 255, 255)
TRANSPARENT: RGBA = (255, 255, 255, 0)  # white even where invisible: only white is used


def _glyph(x: float, y: float) -> bool:
    """The symbol in a unit square (y down): an arrow pointing up out of an open tray."""
    tray_floor = 0.08 <= x <= 0.92 and 0.81 <= y <= 0.95
    tray_sides = (0.08 <= x <= 0.21 or 0.79 <= x <= 0.92) and 0.55 <= y <= 0.95
    shaft = 0.42 <= x <= 0.58 and 0.32 <= y <= 0.72
    head = 0.04 <= y <= 0.40 and abs(x - 0.5) <= 0.30 * (y - 0.04) / 0.36
    return tray_floor or tray_sides or shaft or head


def _in_box(box: tuple[float, float, float], shape: Shape) -> Shape:
    left, top, side = box
    return lambda x, y: shape((x - left) / side, (y - top) / side)


def _rounded_square(size: float, radius: float) -> Shape:
    def inside(x: float, y: float) -> bool:
        if not (0 <= x <= size and 0 <= y <= size):
            return False
        cx = min(max(x, radius), size - radius)  # nearest point of the inner square
        cy = min(max(y, radius), size - radius)
        return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2

    return inside


def _coverage(shape: Shape, px: int, py: int, samples: int) -> int:
    """How many of samples² points spread over pixel (px, py) fall inside the shape."""
    # Most pixels are wholly in or out; our shapes' parts are wider than a pixel, so corners
    # and centre agreeing settles it (and keeps drawing well under a second).
    probes = {shape(px + dx, py + dy) for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1), (0.5, 0.5))}
    if len(probes) == 1:
        return samples * samples if probes.pop() else 0
    step = 1 / samples
    return sum(
        shape(px + (i + 0.5) * step, py + (j + 0.5) * step)
        for j in range(samples)
        for i in range(samples)
    )


def _hex_rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _mix(a: Sequence[int], b: Sequence[int], amount: float) -> tuple[int, ...]:
    return tuple(round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))


def _color_pixels() -> list[list[RGBA]]:
    background = _rounded_square(COLOR_SIZE, _CORNER_RADIUS)
    glyph = _in_box(_COLOR_GLYPH_BOX, _glyph)
    brand = _hex_rgb(BRAND_COLOR)
    full = _SAMPLES * _SAMPLES
    rows = []
    for py in range(COLOR_SIZE):
        row: list[RGBA] = []
        for px in range(COLOR_SIZE):
            alpha = _coverage(background, px, py, _SAMPLES) / full
            ink = _coverage(glyph, px, py, _SAMPLES) / full
            r, g, b = _mix(brand, WHITE[:3], ink)
            row.append((r, g, b, round(255 * alpha)))
        rows.append(row)
    return rows


def _outline_pixels() -> list[list[RGBA]]:
    # No anti-aliasing: Teams asks for white and transparent only, so a pixel is one or the
    # other, by whether most of it is covered.
    glyph = _in_box(_OUTLINE_GLYPH_BOX, _glyph)
    half = _SAMPLES * _SAMPLES / 2
    return [
        [
            WHITE if _coverage(glyph, px, py, _SAMPLES) > half else TRANSPARENT
            for px in range(OUTLINE_SIZE)
        ]
        for py in range(OUTLINE_SIZE)
    ]


@cache
def color_icon() -> bytes:
    """`color.png`: 192×192, the glyph in white on a rounded square of the brand colour."""
    return _png_indexed(_color_pixels())


@cache
def outline_icon() -> bytes:
    """`outline.png`: 32×32 RGBA, the glyph in white on a transparent background."""
    return _png_rgba(_outline_pixels())


# PNG encoding (ISO/IEC 15948): signature, IHDR, [PLTE, tRNS], IDAT, IEND.

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE_INDEXED = 3
_COLOR_TYPE_RGBA = 6
_STORED_BLOCK = 0xFFFF  # the most a stored deflate block can hold


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _zlib_stored(raw: bytes) -> bytes:
    """A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4): no compressor."""
    out = bytearray(b"\x78\x01")  # deflate, 32 KiB window, no dictionary; header check ok
    starts = range(0, len(raw), _STORED_BLOCK) if raw else range(1)
    for start in starts:
        block = raw[start : start + _STORED_BLOCK]
        final = start + _STORED_BLOCK >= len(raw)
        out += struct.pack("<BHH", int(final), len(block), len(block) ^ 0xFFFF) + block
    out += struct.pack(">I", zlib.adler32(raw))
    return bytes(out)


def _png(width: int, height: int, color_type: int, extra: bytes, scanlines: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        _SIGNATURE
        + _chunk(b"IHDR", header)
        + extra
        + _chunk(b"IDAT", _zlib_stored(scanlines))
        + _chunk(b"IEND", b"")
    )


def _png_rgba(rows: Sequence[Sequence[RGBA]]) -> bytes:
    # Each scanline starts with its filter type, 0 (none).
    scanlines = b"".join(b"\x00" + bytes(c for pixel in row for c in pixel) for row in rows)
    return _png(len(rows[0]), len(rows), _COLOR_TYPE_RGBA, b"", scanlines)


def _png_indexed(rows: Sequence[Sequence[RGBA]]) -> bytes:
    palette = sorted({pixel for row in rows for pixel in row})  # sorted: same input, same bytes
    if len(palette) > 256:
        raise ValueError(f"An indexed PNG holds 256 colours at most, not {len(palette)}.")
    index = {pixel: i for i, pixel in enumerate(palette)}
    scanlines = b"".join(b"\x00" + bytes(index[pixel] for pixel in row) for row in rows)
    extra = _chunk(b"PLTE", b"".join(bytes(p[:3]) for p in palette)) + _chunk(
        b"tRNS", bytes(p[3] for p in palette)
    )
    return _png(len(rows[0]), len(rows), _COLOR_TYPE_INDEXED, extra, scanlines)
