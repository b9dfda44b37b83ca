"""imgproxy processing/apply_filters_test.go: blur, sharpen, pixelate (sizes not by dpr).

imgproxy compares hashes of its own output; here each effect is checked for what it is:
blur smooths, sharpen adds contrast, pixelate makes blocks of one colour.
"""

from typing import Any

import pytest
import pyvips

from tests.previews.imgproxy.cases import params
from tests.previews.imgproxy.conftest import Outcome, Run, read
from tests.previews.imgproxy.sources import make

SOURCE = "test-images/png/png.png"


def _roughness(image: pyvips.Image) -> float:
    """Mean absolute difference between horizontal neighbours: high for noise and edges."""
    grey = image[:3].colourspace("b-w").cast("float")
    return float(
        (
            grey.crop(1, 0, grey.width - 1, grey.height)
            - grey.crop(0, 0, grey.width - 1, grey.height)
        )
        .abs()
        .avg()
    )


def _blocky(out: Outcome, size: int) -> bool:
    assert out.image is not None
    block = out.image.crop(size, size, size, size)
    return all(band.max() == band.min() for band in block.bandsplit())


@pytest.mark.parametrize("row", params("V4_APPLY_FILTERS"))
def test_filters(run_case: Run, row: dict[str, Any]) -> None:
    out = run_case(SOURCE, row["url_options"], fmt="png")
    assert out.status == 200
    assert (out.width, out.height) == (row["expect"]["width"], row["expect"]["height"])
    assert out.image is not None
    source = read(make(SOURCE), "png")
    assert source.image is not None
    options = dict(part.split(":") for part in row["url_options"].split("/"))
    before, after = _roughness(source.image), _roughness(out.image)
    if int(options["pixelate"]) > 1:
        assert _blocky(out, int(options["pixelate"]))
    elif float(options["blur"]) > 0:
        assert after < before / 2
    else:
        assert after > before
