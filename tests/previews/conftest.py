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
