"""Placeholders and colours from pixels. The hashes must be the reference implementations'
on the same pixels: woltapp's BlurHash (its TypeScript encoder, npm `blurhash`) and evanw's
ThumbHash (its JavaScript encoder, npm `thumbhash`), run by Node on the very bytes we hash.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from proxy.info import pixels

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = """
const {encode} = require('blurhash'); const thumbhash = require('thumbhash');
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(cases.map(([hex, w, h, x, y]) => {
  const data = Buffer.from(hex, 'hex');
  return [encode(new Uint8ClampedArray(data), w, h, x, y),
          Buffer.from(thumbhash.rgbaToThumbHash(w, h, new Uint8Array(data))).toString('hex')];
})));
"""


def reference(cases: list[tuple[np.ndarray, int, int]]) -> list[tuple[str, str]]:
    if shutil.which("node") is None or not (ROOT / "node_modules" / "thumbhash").is_dir():
        pytest.fail("node and the npm devDependencies (npm ci) are needed for the references")
    payload = [(px.tobytes().hex(), px.shape[1], px.shape[0], x, y) for px, x, y in cases]
    out = subprocess.run(
        ["node", "-e", REFERENCE], input=json.dumps(payload), capture_output=True, text=True,
        cwd=ROOT, check=True, timeout=60,
    )  # fmt: skip
    return [tuple(pair) for pair in json.loads(out.stdout)]


def gradient(width: int, height: int, noise: float, seed: int, alpha: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    y, x = height - 1 - y, width - 1 - x  # falling: the largest AC components are positive
    rgba = np.stack(
        [x * 255 / width, y * 255 / height, (x + y) * 127 / (width + height) + 60, x * 0 + 255],
        -1,
    ).astype(np.float64)
    rgba += rng.normal(0, noise, rgba.shape)
    if alpha:
        rgba[..., 3] = 195 * (x < width // 2) + 60
    else:
        rgba[..., 3] = 255
    return np.clip(rgba, 0, 255).astype(np.uint8)


def max_ac_is_positive(px: np.ndarray, x: int, y: int) -> bool:
    """Whether the largest AC component is positive. There the TypeScript encoder agrees with
    woltapp's C encoder, which we use; for the others it picks the largest signed value
    instead of the largest magnitude that the C encoder (and Algorithm.md) take."""
    h, w = px.shape[:2]
    linear = px[..., :3] / 255
    linear = np.where(linear <= 0.04045, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
    ac = []
    for j in range(y):
        for i in range(x):
            if i == j == 0:
                continue
            basis = np.outer(
                np.cos(np.pi * j * np.arange(h) / h), np.cos(np.pi * i * np.arange(w) / w)
            )
            ac.extend(2 * (linear * basis[..., None]).mean(axis=(0, 1)))
    values = np.array(ac)
    return not len(values) or bool(values.max() >= np.abs(values).max())


CASES = [
    (gradient(100, 75, 0, 1, False), 4, 3),
    (gradient(100, 100, 0, 2, False), 9, 9),
    (gradient(37, 100, 20, 3, False), 1, 1),
    (gradient(64, 64, 10, 4, True), 5, 4),
    (gradient(100, 40, 0, 5, True), 3, 3),
    (gradient(1, 1, 0, 6, False), 2, 2),
]


def test_hashes_equal_the_reference_implementations_on_the_same_pixels():
    expected = reference(CASES)
    blurhash_compared = 0
    for (px, x, y), (blur, thumb) in zip(CASES, expected, strict=True):
        assert pixels.thumbhash_of(px) == thumb.upper()
        if max_ac_is_positive(px, x, y):
            assert pixels.blurhash_of(px, x, y) == blur
            blurhash_compared += 1
    assert blurhash_compared >= 4


def test_blurhash_takes_the_largest_magnitude_where_the_typescript_encoder_differs():
    """A dark-light-dark band: its largest AC component (cos 2 pi x / w) is negative."""
    x = np.arange(60)
    band = (255 * np.sin(np.pi * x / 60)).astype(np.uint8)
    px = np.zeros((20, 60, 4), np.uint8)
    px[..., 0] = px[..., 1] = px[..., 2] = band
    px[..., 3] = 255
    assert not max_ac_is_positive(px, 3, 1)
    ours = pixels.blurhash_of(px, 3, 1)
    ((theirs, _),) = reference([(px, 3, 1)])
    assert ours[2:6] == theirs[2:6]  # the same average colour
    # The quantised maximum is the C encoder's: the magnitude of the negative component.
    assert ours[1] != theirs[1]


def test_average_palette_and_transparency():
    px = np.zeros((10, 10, 4), np.uint8)
    px[:, :5] = (255, 0, 0, 255)
    px[:, 5:] = (0, 0, 255, 0)
    assert pixels.average(px, ignore_transparent=True) == {"R": 255, "G": 0, "B": 0, "A": 255}
    assert pixels.average(px, ignore_transparent=False)["A"] == 128
    assert pixels.transparent(px) and not pixels.transparent(np.full((2, 2, 4), 255, np.uint8))
    colours = {tuple(c.values()) for c in pixels.palette(px, 2)}
    assert colours == {(255, 0, 0, 255), (0, 0, 255, 0)}


def test_dominant_colours_pick_vibrant_and_muted_swatches():
    px = np.zeros((10, 20, 4), np.uint8)
    px[:, :10] = (230, 20, 20, 255)  # saturated, mid luma: vibrant
    px[:, 10:] = (120, 110, 100, 255)  # unsaturated, mid luma: muted
    found = pixels.dominant_colors(px, build_missed=False)
    assert found["vibrant"] == {"R": 230, "G": 20, "B": 20}
    assert found["muted"] == {"R": 120, "G": 110, "B": 100}
    assert found["light_vibrant"] is None
    built = pixels.dominant_colors(px, build_missed=True)
    assert built["light_vibrant"] is not None and built["dark_muted"] is not None
