"""imgproxy processing/watermark_test.go: placement, offsets, dpr, opacity, replication.

Beyond the sizes imgproxy's test asserts: the pixels that changed (against the same
render without a watermark) are exactly the watermark's rectangle, where imgproxy's
calcPosition puts it (worked out by hand: 1080x902 image, 200x100 watermark).
"""

from typing import Any

import numpy as np
import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Outcome, Run

# name -> (left, top) of the 200x100 watermark.
PLACES = {
    "ce_opacity_1": (440, 402),
    "no_opacity_1": (440, 0),
    "ea_opacity_1": (880, 402),
    "so_opacity_1": (440, 802),
    "we_opacity_1": (0, 402),
    "nowe_opacity_1": (0, 0),
    "noea_opacity_1": (880, 0),
    "sowe_opacity_1": (0, 802),
    "soea_opacity_1": (880, 802),
    "no_opacity_1_offset_50_0": (490, 0),
    "no_opacity_1_offset_0_50": (440, 50),
    "no_opacity_1_offset_50_50": (490, 50),
    # dpr 0.5: a 540x451 image, offsets 25; dpr 2 cannot enlarge, so it is 1.
    "no_opacity_1_offset_50_50_dpr_0.5": (195, 25),
    "no_opacity_1_offset_50_50_dpr_2": (490, 50),
}


_PLAIN: dict[tuple[Any, ...], Outcome] = {}


def _changed(marked: Outcome, plain: Outcome) -> tuple[int, int, int, int] | None:
    """The bounding box (left, top, width, height) of the pixels that differ."""
    assert marked.image is not None and plain.image is not None
    diff = (marked.image[:3] != plain.image[:3]).bandor()
    changed = np.ndarray((diff.height, diff.width), np.uint8, diff.write_to_memory())
    ys, xs = np.nonzero(changed)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


@pytest.mark.parametrize("row", params("V4_WATERMARK"))
def test_watermark(run_case: Run, row: dict[str, Any]) -> None:
    options, config, expect = row["url_options"], row["config"], row["expect"]
    out = run_case(row["source"], options, config)
    assert out.status == 200
    assert (out.width, out.height) == (expect["width"], expect["height"])
    assert out.format == expect["format"] and out.frames == expect.get("frames", 1)
    without = "/".join(p for p in options.split("/") if not p.startswith("watermark:"))
    key = (row["source"], without, tuple(sorted(config.items())))
    if key not in _PLAIN:  # many rows share one render without the watermark
        _PLAIN[key] = run_case(row["source"], without, config)
    plain = _PLAIN[key]
    box = _changed(out, plain)
    if row["name"] in PLACES:
        assert box == (*PLACES[row["name"]], 200, 100)
    elif row["name"] == "re_opacity_0":
        assert box is None
    elif row["name"].startswith("re_"):
        assert box == (0, 0, out.width, out.height)  # tiled all over
    else:
        assert box is not None
