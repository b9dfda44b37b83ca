"""Hostile sources, made by the tests themselves: what a stranger could upload to a bucket."""

from __future__ import annotations

import os
import struct
import zlib

import pyvips


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int, rows: int = 64) -> bytes:
    """A small PNG whose header claims width x height RGBA; only its first rows exist."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    raw = (b"\0" + b"\x7f" * (width * 4)) * rows
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def gif_of_frames(count: int, size: int = 50) -> bytes:
    """An animated GIF of `count` frames of size x size: one frame's data, repeated."""
    frame = pyvips.Image.black(size, size).linear([1, 1, 1], [200, 30, 30]).cast("uchar")
    single = frame.copy(interpretation="srgb").gifsave_buffer()
    # Split the one-frame GIF: header (with its colour table), then its image block.
    packed = single[10]
    start = 13 + (3 * 2 ** ((packed & 7) + 1) if packed & 0x80 else 0)
    pos = start
    while single[pos] == 0x21:  # extensions before the image: skip their sub-blocks
        pos += 2
        while single[pos]:
            pos += single[pos] + 1
        pos += 1
    head, image = single[:start], _image_block(single, pos)
    control = b"\x21\xf9\x04\x04\x02\x00\x00\x00"  # graphic control: 20 ms, no transparency
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    return head + loop + (control + image) * count + b";"


def _image_block(gif: bytes, pos: int) -> bytes:
    end = pos + 10
    if gif[pos + 9] & 0x80:  # a local colour table
        end += 3 * 2 ** ((gif[pos + 9] & 7) + 1)
    end += 1  # LZW minimum code size
    while gif[end]:
        end += gif[end] + 1
    return gif[pos : end + 1]


def tiff_of_pages(count: int, size: int = 64) -> bytes:
    page = pyvips.Image.xyz(size, size)[0].cast("uchar")
    pages = pyvips.Image.arrayjoin([page] * count, across=1).copy()
    pages.set_type(pyvips.GValue.gint_type, "page-height", size)
    return pages.tiffsave_buffer()


def svg_filter_bomb(side: int = 7000, blur: int = 200) -> bytes:
    """A tiny SVG, under the resolution limit, whose filter needs gigabytes to rasterise."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{side}">'
        f'<filter id="f"><feGaussianBlur stdDeviation="{blur}"/>'
        f'<feMorphology operator="dilate" radius="{blur}"/></filter>'
        f'<rect width="{side}" height="{side}" fill="red" filter="url(#f)"/>'
        "</svg>"
    ).encode()


def svg_reading_a_file(path: str) -> bytes:
    """An SVG that tries to pull a file off the server's disk into the picture: by absolute
    path, as a file: URL and by a name relative to wherever the SVG might be read from."""
    name = path.rsplit("/", 1)[-1]
    images = "".join(
        f'<image xlink:href="{href}" href="{href}" width="100" height="100"/>'
        for href in (path, f"file://{path}", name)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="100" height="100">{images}</svg>'
    ).encode()


def truncated_jpeg() -> bytes:
    x = pyvips.Image.xyz(800, 600)
    whole = x[0].cast("uchar").bandjoin([x[1].cast("uchar")] * 2).jpegsave_buffer()
    return whole[: len(whole) // 3]


def random_bytes() -> bytes:
    return os.urandom(100_000)
