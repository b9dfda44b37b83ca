"""imgproxy processing/colorspace_test.go: what colour space and depth come out.

8-bit stays 8-bit, grey stays grey; 16 bits stay 16 for PNG only with preserve_hdr (the
setting or the option, which wins); a colour watermark turns a grey image to colour.
"""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Run


@pytest.mark.parametrize("row", params("V4_COLORSPACE"))
def test_colorspace(run_case: Run, row: dict[str, Any]) -> None:
    out = run_case(row["source"], row["url_options"], row.get("config"))
    expect = row["expect"]
    assert out.status == 200
    assert (out.width, out.height, out.format) == (
        expect["width"],
        expect["height"],
        expect["format"],
    )
    assert out.interpretation == expect["interpretation"]
