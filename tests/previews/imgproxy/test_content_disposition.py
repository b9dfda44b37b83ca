"""imgproxy httpheaders/cdv_test.go: the file name a preview is offered under.

We send Content-Disposition only when the URL asks (fn, att) and add an RFC 6266
`filename*` (README); where the URL asks, the name offered is imgproxy's.
"""

from typing import Any
from urllib.parse import unquote

import pytest

from proxy.cache import Meta
from proxy.formats import CONTENT_TYPES
from proxy.previews.feature import Preview
from proxy.previews.formats import Choice
from proxy.previews.options import Options
from proxy.sources import SourceRef
from proxy.web.headers import content_disposition
from proxy.web.routes import preview_filename
from tests.previews.imgproxy.cases import params, table

ONLY_ASKED = "Content-Disposition is sent only with fn or att (README)"
SKIP = {
    f"V4_CONTENT_DISPOSITION/{row['name']}": ONLY_ASKED
    for row in table("V4_CONTENT_DISPOSITION")
    if not row["filename"] and not row["return_attachment"]
}
TYPE_OF_EXT = {f".{ext}": ctype for ext, ctype in (("jpg", "image/jpeg"), ("png", "image/png"))}


@pytest.mark.parametrize("row", params("V4_CONTENT_DISPOSITION", skip=SKIP))
def test_content_disposition(row: dict[str, Any]) -> None:
    key = row["source_url"].removeprefix("http://example.com/")
    options = Options(filename=row["filename"] or None, return_attachment=row["return_attachment"])
    preview = Preview(options, SourceRef("abc-public", key), Choice("auto", False), "k")
    # The result's type: the case's extension, else its content type, else the source's.
    ctype = TYPE_OF_EXT.get(row["ext"]) or row["content_type"] or CONTENT_TYPES["jpeg"]
    name = preview_filename(preview, Meta(ctype, "e", 0.0, 0))
    assert name is not None
    header = content_disposition(name, attachment=row["return_attachment"])
    kind, _, rest = row["expect_header"].partition("; filename=")
    assert header.startswith(kind + "; ")
    wanted = unquote(rest.strip('"'))  # imgproxy escapes only '"', as %22
    assert unquote(header.split("filename*=UTF-8''", 1)[1]) == wanted
