"""Real test files, made on the spot: images in awkward formats and tiny videos.

Videos carry their frame number in every frame as a grey level (frame i is 8*i + 4), so a
decoded still tells which frame it is even after lossy compression.
"""

from __future__ import annotations

import io

import av
import numpy as np
import pyvips

GREY_STEP = 8


def gradient16(width: int = 256, height: int = 8) -> np.ndarray:
    """A horizontal 16-bit ramp over a narrow range, as 12-bit scientific data often is."""
    row = np.linspace(1000, 4000, width).astype(np.uint16)
    return np.tile(row, (height, 1))


def tiff16(array: np.ndarray) -> bytes:
    image = pyvips.Image.new_from_array(array).copy(interpretation="grey16")
    return image.tiffsave_buffer()


def multipage_tiff(sizes: list[tuple[int, int]]) -> bytes:
    from PIL import Image

    pages = [Image.new("RGB", size, (40 * i, 100, 200)) for i, size in enumerate(sizes)]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:])
    return out.getvalue()


def cmyk_tiff(width: int = 32, height: int = 16) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("CMYK", (width, height), (0, 255, 255, 0)).save(out, "TIFF")  # pure red ink
    return out.getvalue()


def heic(width: int = 64, height: int = 48) -> bytes:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 200, 30)).save(out, "HEIF", quality=90)
    return out.getvalue()


def bmp(width: int = 30, height: int = 20) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 10, 10)).save(out, "BMP")
    return out.getvalue()


def mpo(sizes: tuple[tuple[int, int], tuple[int, int]] = ((40, 30), (20, 10))) -> bytes:
    from PIL import Image

    first, second = (Image.new("RGB", size, (200, 200, 0)) for size in sizes)
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def nrrd_bytes(array: np.ndarray, tmp_path) -> bytes:  # type: ignore[no-untyped-def]
    import nrrd

    path = tmp_path / "image.nrrd"
    nrrd.write(str(path), array, index_order="C")
    return path.read_bytes()


def video(
    container_format: str,
    codec: str,
    frames: int = 30,
    size: tuple[int, int] = (64, 48),
    rate: int = 10,
    noise: int = 0,
    gop: int = 10,
    bit_rate: int = 0,
) -> bytes:
    """A short video whose frame i is a flat grey of level 8*i + 4 (plus optional noise)."""
    out = io.BytesIO()
    rng = np.random.default_rng(7)
    with av.open(out, mode="w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        if bit_rate:  # with noise, a file as large as a real one of its length
            stream.bit_rate = bit_rate
        if codec == "mpeg4":
            stream.codec_context.qscale = 2
        for i in range(frames):
            pixels = np.full((size[1], size[0], 3), grey_of(i), np.int16)
            if noise:
                corner = rng.integers(-noise, noise, (size[1] // 2, size[0] // 2, 3))
                pixels[: size[1] // 2, : size[0] // 2] += corner.astype(np.int16)
            frame = av.VideoFrame.from_ndarray(np.clip(pixels, 0, 255).astype(np.uint8), "rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


def grey_of(index: int) -> int:
    return GREY_STEP * index + 4


def frame_index(grey: float) -> int:
    return round((grey - 4) / GREY_STEP)


def mean_grey(encoded: bytes, region: tuple[int, int, int, int] | None = None) -> float:
    """Mean level of a decoded image (or of a region left, top, width, height of it)."""
    image = pyvips.Image.new_from_buffer(encoded, "")
    if region is not None:
        image = image.crop(*region)
    return image.avg()
