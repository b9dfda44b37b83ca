"""imgproxy fix_path_test.go (v3), handlers/path_test.go (v4): splitting and normalising.

What we take over: `%3A` before `/plain/` is `:`, the leading slash goes, the query is not
part of the options. The `scheme:/` repair of plain URLs matters only for outside sources,
which we refuse.
"""

from typing import Any

import pytest

from proxy.errors import ProxyError
from proxy.previews.url import normalise, parse_url
from tests.previews.imgproxy import cases
from tests.previews.imgproxy.cases import params

OUTSIDE = "repairs scheme:/ in an outside source URL; those are refused by design"


def _scheme_repair(row: dict[str, Any]) -> bool:
    text = row.get("input", row.get("request_path", ""))
    expect = row.get("expect", row.get("expect_path", ""))
    return (
        isinstance(expect, str)
        and ":/" in text
        and text.replace(":/", "://") != text
        and ("://" in expect and expect.count("://") > text.count("://"))
    )


SKIP = {
    f"{table}/{row['name']}": OUTSIDE
    for table in ("V3_FIX_PATH", "V4_PATH_SPLIT", "V4_REDENORMALIZE_PATH")
    for row in cases.table(table)
    if _scheme_repair(row)
}


@pytest.mark.parametrize("row", params("V3_FIX_PATH", "V4_REDENORMALIZE_PATH", skip=SKIP))
def test_normalise(row: dict[str, Any]) -> None:
    text: str = row["input"]
    if text.startswith("/signature/"):  # v3 keeps the signature in what it fixes
        assert "/signature/" + normalise(text[len("/signature/") :]) == row["expect"]
    else:
        assert normalise(text.lstrip("/") if text.startswith("/plain") else text) == row["expect"]


@pytest.mark.parametrize("row", params("V4_PATH_SPLIT", skip=SKIP))
def test_split(row: dict[str, Any]) -> None:
    request: str = row["request_path"].removeprefix(row.get("path_prefix", ""))
    path = request.lstrip("/").partition("?")[0]  # aiohttp hands the query over apart
    if "expect_error" in row:
        with pytest.raises(ProxyError) as caught:
            parse_url(path)
        assert caught.value.status in (400, 403)  # imgproxy: 404 "Invalid path"
        return
    signature, _, rest = path.partition("/")
    assert signature == row["expect_signature"]
    assert normalise(rest) == row["expect_path"]
