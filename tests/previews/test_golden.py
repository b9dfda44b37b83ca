"""Encoder outputs match their golden perceptual hashes (tests/golden.py says how, and how to
regenerate them): a library bump that shifts colours, subsampling or quality mapping fails."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import pyvips

from proxy.previews import encode
from proxy.previews.options import Options
from tests.golden import MAX_DIFFERENCE, Goldens, Hash, perceptual_hash

GOLDEN = Path(__file__).with_name("golden.json")

# (name, format, quality, alpha, options)
CASES: list[tuple[str, str, int, bool, dict[str, Any]]] = [
    ("jpeg-q80", "jpeg", 80, False, {}),
    ("jpeg-q30", "jpeg", 30, False, {}),
    ("jpeg-q95", "jpeg", 95, False, {}),
    ("png", "png", 80, False, {}),
    ("png-alpha", "png", 80, True, {}),
    ("webp-q79", "webp", 79, False, {}),
    ("webp-q30-alpha", "webp", 30, True, {}),
    ("avif-q63", "avif", 63, False, {}),
    ("avif-q30", "avif", 30, False, {}),
    ("gif", "gif", 80, False, {}),
    ("tiff", "tiff", 80, False, {}),
    ("heic-q60", "heic", 60, False, {}),
    ("jpeg-max-bytes", "jpeg", 90, False, {"max_bytes": 6000}),
]


def source(alpha: bool) -> pyvips.Image:
    """A fixed picture: colour gradients, a zone plate (fine detail for chroma subsampling and
    quality to show in) and saturated blocks; alpha a gradient of its own."""
    x, y = pyvips.Image.xyz(160, 120)[0], pyvips.Image.xyz(160, 120)[1]
    zone = (pyvips.Image.zone(160, 120) + 1) * 127.5
    red = x * (255 / 159)
    green = y * (255 / 119)
    blue = zone
    image = red.bandjoin([green, blue])
    block = pyvips.Image.black(40, 30).new_from_image([230, 20, 40])
    image = image.insert(block, 10, 10).insert(block.new_from_image([20, 200, 60]), 110, 80)
    image = image.cast("uchar").copy(interpretation="srgb")
    if alpha:
        image = image.bandjoin((x * (200 / 159) + 55).cast("uchar"))
    return image


@pytest.fixture(scope="module")
def goldens() -> Iterator[Goldens]:
    stored = Goldens(GOLDEN)
    yield stored
    stored.save()


@pytest.mark.parametrize(
    ("name", "fmt", "quality", "alpha", "options"), CASES, ids=[c[0] for c in CASES]
)
def test_an_encoder_output_matches_its_golden_hash(goldens, name, fmt, quality, alpha, options):
    body = encode.encode(source(alpha), fmt, quality, Options(**options))
    settings = {"format": fmt, "quality": quality, "alpha": alpha, "options": options}
    goldens.check(name, settings, body)


def test_the_hash_sees_a_colour_shift_chroma_subsampling_and_quality_but_not_a_step():
    image = source(False)

    def jpeg(picture: pyvips.Image, quality: int, subsample: str = "off") -> Hash:
        return perceptual_hash(picture.jpegsave_buffer(Q=quality, subsample_mode=subsample))

    base = jpeg(image, 90)
    assert base.distance(jpeg(image, 90)) == 0
    assert base.distance(jpeg(image, 89)) <= MAX_DIFFERENCE  # one step: a re-rounding
    assert base.distance(jpeg(image, 80)) > MAX_DIFFERENCE  # quality mapped otherwise
    assert base.distance(jpeg(image, 90, "on")) > MAX_DIFFERENCE  # chroma subsampled
    shifted = image.linear([1, 1, 1], [0, 0, 12]).cast("uchar").copy(interpretation="srgb")
    assert base.distance(jpeg(shifted, 90)) > MAX_DIFFERENCE
    assert Hash.from_json(base.as_json()) == base
