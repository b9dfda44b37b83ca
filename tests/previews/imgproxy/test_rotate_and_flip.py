"""imgproxy processing/rotate_and_flip_test.go: EXIF orientation, rotate, flip.

The orientation-N.png files hold the same pixels with different EXIF tags. Besides
imgproxy's own facts (identical or differing outputs), each auto-rotated output is
compared with libvips's autorot of its source, a reading of the tag that is not ours.
"""

from typing import Any

import pytest
import pyvips

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Run
from tests.previews.imgproxy.sources import make


def _pixels(body: bytes) -> bytes:
    return bytes(pyvips.Image.new_from_buffer(body, "").write_to_memory())


@pytest.mark.parametrize("row", params("V4_ROTATE_AND_FLIP"))
def test_rotate_and_flip(run_case: Run, row: dict[str, Any]) -> None:
    sources = [f"orientation-{i}.png" for i in range(9)]
    expect = row["expect"]
    if "combinations" not in row:
        outs = [run_case(source, row["url_options"] or "ar:1", fmt="png") for source in sources]
        pixels = [_pixels(out.body) for out in outs]
        if expect.get("all_outputs_pixel_identical"):
            assert len(set(pixels)) == 1
        else:
            assert all(pixels[i] != pixels[i - 1] for i in range(1, 8))
            for source, out in zip(sources, outs, strict=True):
                upright = pyvips.Image.new_from_buffer(make(source), "").autorot()
                assert _pixels(out.body) == bytes(upright.write_to_memory()), source
        return
    results = []
    for combination in row["combinations"]:
        options = combination["url_options"] or "ar:1"
        outs = [run_case(source, options, fmt="png") for source in sources]
        pixels = [_pixels(out.body) for out in outs]
        if expect.get("same_combination_identical_across_sources"):
            assert len(set(pixels)) == 1
            size = expect["size_for_rotation"][str(combination["rotate"])]
            assert (outs[0].width, outs[0].height) == tuple(size)
        else:
            assert all(p != pixels[0] for p in pixels[1:])
        results.append(pixels[0])
    assert all(results[i] != results[i - 1] for i in range(1, len(results)))
