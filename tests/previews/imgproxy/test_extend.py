"""imgproxy processing/extend_test.go: extend and extend_aspect_ratio sizes and placement.

The canvas is transparent (PNG, no background); the image's place on it is checked
against imgproxy's calcPosition, worked out by hand (the centre rounds half to even,
|offset| < 1 is a share of the canvas, pixel offsets are multiplied by the dpr).
"""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Outcome, Run

# name -> where the 200x100 image (unscaled in these rows) sits on the canvas.
PLACES = {
    "extend_500x500_gravity_ce": (150, 200),
    "extend_500x500_gravity_no": (150, 0),
    "extend_500x500_gravity_so": (150, 400),
    "extend_500x500_gravity_ea": (300, 200),
    "extend_500x500_gravity_we": (0, 200),
    "extend_500x500_gravity_noea": (300, 0),
    "extend_500x500_gravity_soea": (300, 400),
    "extend_500x500_gravity_sowe": (0, 400),
    "extend_500x500_gravity_nowe": (0, 0),
    "extend_500x500_gravity_no_offset_0.000000_5.000000": (150, 5),
    # dpr 2 cannot enlarge the image; with extend the dpr scale stays 1.
    "extend_500x500_gravity_no_offset_0.000000_5.000000_dpr_2": (150, 5),
    "extend_500x500_gravity_ea_offset_5.000000_0.000000": (295, 200),
    "extend_500x500_gravity_ea_offset_5.000000_0.000000_dpr_2": (295, 200),
    "extend_500x500_gravity_no_offset_0.000000_0.100000": (150, 50),
    "extend_500x500_gravity_no_offset_0.000000_0.100000_dpr_2": (150, 50),
    "extendAr_300x600_gravity_ce": (0, 150),
    "extendAr_300x600_gravity_no": (0, 0),
    "extendAr_300x600_gravity_so": (0, 300),
    "extendAr_300x600_gravity_ea": (0, 150),
    "extendAr_300x600_gravity_we": (0, 150),
    "extendAr_300x600_gravity_noea": (0, 0),
    "extendAr_300x600_gravity_soea": (0, 300),
    "extendAr_300x600_gravity_sowe": (0, 300),
    "extendAr_300x600_gravity_nowe": (0, 0),
    "extendAr_300x600_gravity_no_offset_0.000000_5.000000": (0, 5),
    "extendAr_300x600_gravity_no_offset_0.000000_0.100000": (0, 40),
}


def _check_place(out: Outcome, left: int, top: int) -> None:
    assert out.alpha
    # The image's corners are where they should be, opaque, with the source's colours.
    assert out.pixel(left, top)[:4] == [55, 0, 100, 255]
    assert out.pixel(left + 199, top + 99)[:4] == [254, 198, 100, 255]
    # Just outside them: the transparent canvas.
    for x, y in ((left - 1, top), (left, top - 1), (left + 200, top + 99), (left, top + 100)):
        if 0 <= x < out.width and 0 <= y < out.height:
            assert out.pixel(x, y)[3] == 0, (x, y)


@pytest.mark.parametrize("row", params("V4_EXTEND", "V4_EXTEND_ASPECT_RATIO"))
def test_extend(run_case: Run, row: dict[str, Any]) -> None:
    out = run_case("geometry.png", row["url_options"], fmt="png")
    assert out.status == 200
    assert (out.width, out.height) == (row["expect"]["width"], row["expect"]["height"])
    if row["name"] in PLACES:
        _check_place(out, *PLACES[row["name"]])
