"""imgproxy processing/trim_test.go: thresholds, colours, equal sides, transparency."""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Run


@pytest.mark.parametrize("row", params("V4_TRIM"))
def test_trim(run_case: Run, row: dict[str, Any]) -> None:
    out = run_case(row["source"], row["url_options"], fmt="png")
    assert out.status == 200
    assert (out.width, out.height) == (row["expect"]["width"], row["expect"]["height"])
