"""imgproxy svg/svg_test.go (v3), processing/svg (v4), imagetype/svg_test.go: SVG sources."""

from typing import Any

import pytest

from proxy.previews.svg import sanitise
from proxy.sniff import sniff
from tests.previews.imgproxy.cases import params


@pytest.mark.parametrize("row", params("SVG_SANITIZE"))
def test_sanitise(row: dict[str, Any]) -> None:
    assert sanitise(row["input"].encode()).decode() == row["expect"]


@pytest.mark.parametrize("row", params("V4_SVG_DETECTION"))
def test_detection(row: dict[str, Any]) -> None:
    data = row["data"]
    raw = data["bytes"].encode("latin-1") if isinstance(data, dict) else data.encode()
    assert (sniff(raw).kind == "svg") == row["expect_svg"]
