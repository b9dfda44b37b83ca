"""imgproxy processing/padding_test.go: padding times the dpr (half to even), coloured."""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Run


@pytest.mark.parametrize("row", params("V4_PADDING"))
def test_padding(run_case: Run, row: dict[str, Any]) -> None:
    out = run_case("geometry.png", row["url_options"], fmt="png")
    expect = row["expect"]
    assert out.status == 200
    assert (out.width, out.height) == (expect["width"], expect["height"])
    top, right, bottom, left = expect["padding_px_top_right_bottom_left"]
    colour = list(expect["padding_color"])
    # Each band is exactly as wide as imgproxy makes it, and the image starts after it.
    assert out.pixel(left - 1, top)[:3] == colour and out.pixel(left, top - 1)[:3] == colour
    assert out.pixel(out.width - right, out.height - bottom)[:3] == colour
    assert out.pixel(left, top)[:3] != colour
    assert out.pixel(out.width - right - 1, out.height - bottom - 1)[:3] != colour
