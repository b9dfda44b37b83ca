"""imgproxy integration_test/matrix_test.go: every source format to every output format.

imgproxy asserts the status and the format; here the output is also read back (by a
decoder that is not ours) and must keep the source's size (ICO: fitted into 256 px).
"""

from typing import Any

import pytest

from tests.previews.imgproxy.cases import SOURCES, params, table
from tests.previews.imgproxy.conftest import Run

NO_JXL = "this libvips build has no JPEG XL codec (imgproxy's has)"
SKIP = {f"V4_MATRIX/{row['name']}": NO_JXL for row in table("V4_MATRIX") if "jxl" in row["path"]}


def _size(source: str) -> tuple[int, int]:
    facts = SOURCES[source]
    if "entries" in facts:  # ICO: the largest entry
        return max((w, h) for w, h, _, _ in facts["entries"])
    if source.endswith("ios26.heic"):
        return 640, 426  # its size is not known: our stand-in's
    return facts["width"], facts["height"]


@pytest.mark.parametrize("row", params("V4_MATRIX", skip=SKIP))
def test_matrix(run_case: Run, row: dict[str, Any]) -> None:
    path = row["path"].split("local:///", 1)[1]
    source_path, fmt = path.rsplit("@", 1)
    source = f"test-images/{source_path}"
    out = run_case(source, "", row.get("config"), fmt=fmt)
    assert out.status == row["expect"]["status"], out.body
    assert out.format == row["expect"]["format"]
    width, height = _size(source)
    if fmt == "ico" and max(width, height) > 256:
        factor = 256 / max(width, height)
        width, height = round(width * factor), round(height * factor)
    assert (out.width, out.height) == (width, height)
