"""The benchmark's image set, generated with pyvips into benchmarks/work/data/storage/bench/.

Photographic-like content: smooth colour gradients, low-frequency blobs, a few hard-edged
shapes and fine sensor-like noise, so JPEG sizes and decode costs resemble real photos.
Files are made once and kept; delete benchmarks/work/ to regenerate.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

import pyvips

from benchmarks.harness import BUCKET, WORK, log

DATA = WORK / "data"
STORAGE = DATA / "storage"
BUCKET_DIR = STORAGE / BUCKET


@dataclass(frozen=True)
class Source:
    label: str
    key: str
    width: int
    height: int

    @property
    def path(self) -> Path:
        return BUCKET_DIR / self.key

    @property
    def source(self) -> str:
        return f"{BUCKET}/{self.key}"

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6


JPEG_1080P = Source("JPEG 1920x1080", "photos/photo-1920x1080.jpg", 1920, 1080)
JPEG_12MP = Source("JPEG 4000x3000", "photos/photo-4000x3000.jpg", 4000, 3000)
JPEG_48MP = Source("JPEG 8000x6000", "photos/photo-8000x6000.jpg", 8000, 6000)
JPEG_50MP = Source("JPEG 8660x5773 (50 MP)", "photos/photo-8660x5773.jpg", 8660, 5773)
PNG_ALPHA = Source("PNG 1920x1080 RGBA", "photos/alpha-1920x1080.png", 1920, 1080)
TIFF_16 = Source("TIFF 16-bit 1920x1080", "photos/deep-1920x1080.tif", 1920, 1080)
BIG = Source("1 GiB object (sparse)", "big/one-gib.bin", 0, 0)
VIDEO = Source("MP4 1280x720, 10 s, H.264", "videos/clip-1280x720.mp4", 1280, 720)
REMOTE = [Source(f"remote {i}", f"remote/object-{i:02d}.jpg", 1920, 1080) for i in range(10)]

ONE_GIB = 1 << 30


def photo(width: int, height: int, seed: int) -> pyvips.Image:
    """An 8-bit sRGB image that compresses and decodes roughly like a photograph."""
    rnd = random.Random(seed)
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    bands = []
    for _ in range(3):
        a, b, c = rnd.uniform(40, 200), rnd.uniform(-120, 120), rnd.uniform(-120, 120)
        bands.append(x * (b / width) + y * (c / height) + a)
    img = bands[0].bandjoin(bands[1:])

    # low-frequency "scene" variation: coarse noise upscaled smoothly
    cw, ch = max(8, width // 96), max(8, height // 96)
    coarse = pyvips.Image.gaussnoise(cw, ch, mean=0, sigma=35, seed=seed).bandjoin(
        [pyvips.Image.gaussnoise(cw, ch, mean=0, sigma=35, seed=seed + i) for i in (1, 2)]
    )
    coarse = coarse.gaussblur(1.2).affine(
        [width / cw, 0, 0, height / ch], interpolate=pyvips.Interpolate.new("bicubic")
    )
    coarse = coarse.crop(0, 0, min(width, coarse.width), min(height, coarse.height))
    coarse = coarse.embed(0, 0, width, height, extend="copy")
    img = img + coarse

    # hard-edged shapes: discs and rectangles
    for _ in range(12):
        colour = [rnd.uniform(0, 255) for _ in range(3)]
        cx, cy = rnd.uniform(0, width), rnd.uniform(0, height)
        r = rnd.uniform(0.03, 0.18) * min(width, height)
        if rnd.random() < 0.5:
            mask = ((x - cx) ** 2 + (y - cy) ** 2) < r * r
        else:
            mask = (abs(x - cx) < r) & (abs(y - cy) < r * 0.6)
        img = mask.ifthenelse(colour, img)

    # fine sensor noise
    fine = pyvips.Image.gaussnoise(width, height, mean=0, sigma=7, seed=seed + 7)
    img = img + fine.bandjoin([fine.rot180() if width == height else fine, fine])
    return img.cast("uchar").copy(interpretation="srgb")


def _write(src: Source, seed: int, fmt: str) -> None:
    if src.path.exists() and src.path.stat().st_size > 0:
        return
    src.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = src.path.with_name(src.path.name + ".tmp" + src.path.suffix)
    img = photo(src.width, src.height, seed)
    if fmt == "jpeg":
        img.jpegsave(str(tmp), Q=88, optimize_coding=True)
    elif fmt == "png":
        xy = pyvips.Image.xyz(src.width, src.height)
        alpha = (xy[0] * (255 / src.width)).cast("uchar")
        img.bandjoin(alpha).pngsave(str(tmp), compression=6)
    elif fmt == "tiff16":
        deep = (img.cast("ushort") * 257).copy(interpretation="rgb16")
        deep.tiffsave(str(tmp), compression="deflate")
    os.replace(tmp, src.path)
    log(f"  made {src.key} ({src.path.stat().st_size / 1e6:.1f} MB)")


def make_video() -> None:
    """A 10 s H.264 MP4 of a photo panning by with fresh sensor grain in every frame, at
    about a phone camera's 8 Mbit/s, its index (moov) at the end, as a camera or a plain
    muxer writes it: a reader of its header must seek to the end."""
    if VIDEO.path.exists() and VIDEO.path.stat().st_size > 0:
        return
    import av
    import numpy as np

    VIDEO.path.parent.mkdir(parents=True, exist_ok=True)
    tmp = VIDEO.path.with_name(VIDEO.path.name + ".tmp.mp4")
    width, height, fps = VIDEO.width, VIDEO.height, 25
    scene = photo(width * 2, height, 9)
    pixels = np.ndarray((height, width * 2, 3), np.uint8, scene.write_to_memory())
    with av.open(str(tmp), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = 8_000_000
        stream.options = {"preset": "veryfast"}
        grain = np.random.default_rng(9)
        for number in range(10 * fps):
            left = number * width // (10 * fps)
            noise = grain.integers(-12, 13, (height, width, 1), dtype=np.int16)
            view = pixels[:, left : left + width].astype(np.int16) + noise
            frame = av.VideoFrame.from_ndarray(
                np.clip(view, 0, 255).astype(np.uint8), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    os.replace(tmp, VIDEO.path)
    log(f"  made {VIDEO.key} ({VIDEO.path.stat().st_size / 1e6:.1f} MB)")


def make_big() -> None:
    """A sparse 1 GiB file: instant to create, and reads of holes return zeros."""
    if BIG.path.exists() and BIG.path.stat().st_size == ONE_GIB:
        return
    BIG.path.parent.mkdir(parents=True, exist_ok=True)
    with open(BIG.path, "wb") as f:
        f.truncate(ONE_GIB)


def make_all(need_50mp: bool = True, need_video: bool = True) -> None:
    log("image set: generating what is missing under benchmarks/work/data/storage/bench/")
    _write(JPEG_1080P, 1, "jpeg")
    _write(JPEG_12MP, 2, "jpeg")
    _write(JPEG_48MP, 3, "jpeg")
    if need_50mp:
        _write(JPEG_50MP, 4, "jpeg")
    _write(PNG_ALPHA, 5, "png")
    _write(TIFF_16, 6, "tiff16")
    for i, src in enumerate(REMOTE):
        _write(src, 100 + i, "jpeg")
    if need_video:
        make_video()
    make_big()
