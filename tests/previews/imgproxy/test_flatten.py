"""imgproxy processing/flatten_test.go: background, alpha and colour space after padding.

A grey image flattened onto a grey colour stays grey; onto a colour it becomes colour
(v4); 16 bits stay 16 with preserve_hdr. The padding's pixels show the colour used.
"""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Run


@pytest.mark.parametrize("row", params("V4_FLATTEN"))
def test_flatten(run_case: Run, row: dict[str, Any]) -> None:
    out = run_case(row["source"], row["url_options"], row.get("config"))
    expect = row["expect"]
    assert out.status == 200
    assert (out.width, out.height, out.format) == (
        expect["width"],
        expect["height"],
        expect["format"],
    )
    assert out.alpha == expect["alpha"]
    if "interpretation" in expect:
        assert out.interpretation == expect["interpretation"]
    options = dict(part.split(":", 1) for part in row["url_options"].split("/"))
    corner = out.pixel(0, 0)
    depth = 257 if out.interpretation in ("rgb16", "grey16") else 1
    slack = 3 if out.format == "jpeg" else 0
    if "background" in options:
        colour = [int(c) * depth for c in options["background"].split(":")]
        bands = 3 if out.bands >= 3 else 1
        assert all(abs(a - b) <= slack for a, b in zip(corner[:bands], colour, strict=False))
    elif out.alpha:
        assert corner[-1] == 0  # transparent padding
    else:
        assert all(c >= 255 - slack for c in corner[:3])  # JPEG: onto white
