"""imgproxy processing/processing_test.go: result sizes per resizing type, the result limit.

v3 runs the tables on test2.jpg (a 200x100 JPEG), v4 on geometry.png (a 200x100 PNG); the
output keeps the source's format. v3 sets the result limit in its settings, v4 sends it
as the `max_result_dimension` security option: both ways are replayed.
"""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Run

SOURCE = {"V3": ("test2.jpg", "jpeg"), "V4": ("geometry.png", "png")}


def _version(row: dict[str, Any]) -> str:
    return "V3" if row["source"] == "test2.jpg" else "V4"


@pytest.mark.parametrize("row", params("V3_PROCESSING_RESIZE", "V4_PROCESSING_RESIZE"))
def test_resize(run_case: Run, row: dict[str, Any]) -> None:
    source, fmt = SOURCE[_version(row)]
    out = run_case(source, row["url_options"])
    assert out.status == 200
    assert (out.width, out.height) == (row["expect"]["width"], row["expect"]["height"])
    assert out.format == fmt


@pytest.mark.parametrize(
    "row", params("V3_PROCESSING_RESULT_SIZE_LIMIT", "V4_PROCESSING_RESULT_SIZE_LIMIT")
)
def test_result_size_limit_scales_down(run_case: Run, row: dict[str, Any]) -> None:
    source, _ = SOURCE[_version(row)]
    if "url_options_imgproxy" in row:  # v4: the limit travels in the URL
        out = run_case(source, row["url_options_imgproxy"])
    else:
        out = run_case(source, row["url_options"], row["config"])
    assert out.status == 200
    assert (out.width, out.height) == (row["expect"]["width"], row["expect"]["height"])


@pytest.mark.parametrize("row", params("V4_PROCESSING_MISC"))
def test_source_resolution_limit(run_case: Run, row: dict[str, Any]) -> None:
    out = run_case("geometry.png", row["url_options"])
    assert out.status == row["expect"]["status"]
    out = run_case("geometry.png", "w:10", row["config"])  # the same limit as a setting
    assert out.status == row["expect"]["status"]
