"""imgproxy processing/crop_test.go: crop and fill-crop sizes, gravities, offsets.

imgproxy's tests compare pixel hashes; here the source tells where each pixel came from
(geometry.png: R = 55 + x, G = 2 y), so the crop's origin is checked against the origin
imgproxy's calcPosition gives (worked out by hand below: the centre rounds half to even,
|offset| < 1 is a share of the image).
"""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Outcome, Run

# name -> (left, top, scale) of the crop in source pixels (scale: the image's resize).
ORIGINS = {
    "crop_gravity_ce_crop_50x50": (76, 26, 1),
    "crop_gravity_no_crop_50x50": (76, 0, 1),
    "crop_gravity_so_crop_50x50": (76, 50, 1),
    "crop_gravity_ea_crop_50x50": (150, 26, 1),
    "crop_gravity_we_crop_50x50": (0, 26, 1),
    "crop_gravity_noea_crop_50x50": (150, 0, 1),
    "crop_gravity_nowe_crop_50x50": (0, 0, 1),
    "crop_gravity_soea_crop_50x50": (150, 50, 1),
    "crop_gravity_sowe_crop_50x50": (0, 50, 1),
    "crop_gravity_ce_crop_50x50_offset_10.000000_0.000000": (86, 26, 1),
    "crop_gravity_ce_crop_50x50_offset_0.000000_10.000000": (76, 36, 1),
    "crop_gravity_ce_crop_50x50_offset_10.000000_10.000000": (86, 36, 1),
    "crop_gravity_ce_crop_50x50_offset_0.100000_0.000000": (96, 26, 1),
    "crop_gravity_ce_crop_50x50_offset_0.000000_0.100000": (76, 36, 1),
    "crop_gravity_ce_crop_50x50_offset_0.100000_0.100000": (96, 36, 1),
    # Cropped before scaling: the dpr does not move the crop.
    "crop_gravity_ce_crop_50x50_offset_10.000000_10.000000_dpr_0.5": (86, 36, 0.5),
    # fill 100x26: scaled to 100x50, then the crop; 26x100: 200x100 as it is.
    "resizeFill_100x26_gravity_ce": (0, 24, 0.5),
    "resizeFill_100x26_gravity_no": (0, 0, 0.5),
    "resizeFill_100x26_gravity_so": (0, 48, 0.5),
    "resizeFill_26x100_gravity_ce": (88, 0, 1),
    "resizeFill_26x100_gravity_ea": (174, 0, 1),
    "resizeFill_26x100_gravity_we": (0, 0, 1),
    "resizeFill_100x26_gravity_no_offset_0.000000_5.000000": (0, 10, 0.5),
    "resizeFill_26x100_gravity_no_offset_5.000000_0.000000": (93, 0, 1),
    # 0.1 of the scaled image's 50 px height: 5 px there, 10 in the source.
    "resizeFill_100x26_gravity_no_offset_0.000000_0.100000": (0, 10, 0.5),
}


def _origin(out: Outcome, scale: float) -> tuple[float, float]:
    """Where the result's first pixel came from, in source pixels (centre of its box)."""
    r, g, _ = out.pixel(0, 0)[:3]
    return r - 55 - (0.5 / scale - 0.5), g / 2 - (0.5 / scale - 0.5)


@pytest.mark.parametrize("row", params("V4_CROP_RESIZE_FILL", "V4_CROP"))
def test_crop(run_case: Run, row: dict[str, Any]) -> None:
    if "url_options_set" in row:
        _gravity_priority(run_case, row)
        return
    out = run_case("geometry.png", row["url_options"], fmt="png")
    assert out.status == 200
    assert (out.width, out.height) == (row["expect"]["width"], row["expect"]["height"])
    if row["name"] in ORIGINS:
        left, top, scale = ORIGINS[row["name"]]
        x, y = _origin(out, scale)
        slack = 0 if scale == 1 else 1  # resampled pixels blur a source coordinate
        assert abs(x - left) <= slack and abs(y - top) <= slack, (x, y)


def _gravity_priority(run_case: Run, row: dict[str, Any]) -> None:
    """crop's own gravity wins over `gravity`; without one the main gravity is used."""
    bodies = [
        run_case("geometry.png", options, fmt="png").body for options in row["url_options_set"]
    ]
    assert bodies[0] == bodies[1] == bodies[2]
    out = run_case("geometry.png", row["url_options_set"][0], fmt="png")
    assert (out.width, out.height) == (row["expect"]["width"], row["expect"]["height"])
    assert _origin(out, 1) == (76, 0)
