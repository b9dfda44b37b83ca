"""Helpers for preview tests: fetch a preview and decode it, make source images."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Awaitable, Callable

import pytest
import pyvips
from aiohttp.test_utils import TestClient
from multidict import CIMultiDictProxy

from tests.conftest import encode_image

Fetch = Callable[..., Awaitable[tuple[int, bytes, CIMultiDictProxy[str]]]]


def decode(body: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(body, "")


def size_of(body: bytes) -> tuple[int, int]:
    image = decode(body)
    return image.width, image.height


def fetcher(client: TestClient) -> Fetch:
    async def fetch(url: str, **headers: str) -> tuple[int, bytes, CIMultiDictProxy[str]]:
        response = await client.get(url, headers=headers)
        return response.status, await response.read(), response.headers

    return fetch


@pytest.fixture
def fetch(client: TestClient) -> Fetch:
    return fetcher(client)


@pytest.fixture
def photo(put_file) -> str:  # type: ignore[no-untyped-def]
    """A 640x480 JPEG whose red channel grows from left to right; returns its source path."""
    put_file("images/photo.jpg", encode_image(640, 480, ".jpg"))
    return "abc-public/images/photo.jpg"


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height: the pixels are not there."""
    small = pyvips.Image.black(1, 1).cast("uchar").pngsave_buffer()
    ihdr = struct.pack(">II", width, height) + small[24:29]
    chunk = b"IHDR" + ihdr
    return (
        small[:8]
        + struct.pack(">I", 13)
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + small[33:]
    )


def with_alpha(width: int, height: int) -> bytes:
    """A PNG, opaque red on the left half and fully transparent on the right."""
    red = pyvips.Image.black(width, height).new_from_image([255, 0, 0, 255])
    alpha = (pyvips.Image.xyz(width, height)[0] < width // 2).ifthenelse(255, 0)
    image = red[:3].bandjoin(alpha).cast("uchar").copy(interpretation="srgb")
    return image.pngsave_buffer()


def gif_animation(frames: int, width: int = 1, height: int = 1, delay_cs: int = 2) -> bytes:
    """An animated GIF of `frames` frames, written directly (libvips merges equal frames
    and takes minutes to join thousands): frame i is palette colour i % 4."""
    palette = bytes((0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255))
    head = b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF1, 0, 0) + palette
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    body = bytearray()
    for i in range(frames):
        body += b"\x21\xf9\x04\x00" + struct.pack("<H", delay_cs) + b"\x00\x00"
        body += b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
        body += b"\x02" + _lzw_blocks([i % 4] * (width * height))
    return head + loop + bytes(body) + b"\x3b"


def _lzw_blocks(indices: list[int]) -> bytes:
    """LZW with a clear code before every pixel: 3-bit codes, never a table to grow."""
    codes = [c for index in indices for c in (4, index)] + [5]
    bits = 0
    value = 0
    out = bytearray()
    for code in codes:
        value |= code << bits
        bits += 3
        while bits >= 8:
            out.append(value & 0xFF)
            value >>= 8
            bits -= 8
    if bits:
        out.append(value)
    blocks = b"".join(
        bytes((len(out[i : i + 255]),)) + out[i : i + 255] for i in range(0, len(out), 255)
    )
    return blocks + b"\x00"
