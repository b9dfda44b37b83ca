"""imgproxy's handler tests (v3 processing_handler_test.go, v4 integration_test/*): over HTTP.

The real app on loopback; `local:///X` is our `abc-public/X`. Rows that need what this
proxy deliberately does not do (outside sources, origin header pass-through, disabling
libvips loaders) are skipped with the reason; rows where our answer deliberately differs
(README: "Where previews differ from imgproxy") assert our documented answer.
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest
import pyvips

from proxy.sniff import sniff
from tests.previews.imgproxy.cases import SANITISED_TEST1_SVG, params
from tests.previews.imgproxy.sources import make

OUTSIDE = "outside sources (http://, s3://) are refused by design"
ORIGIN = "needs an HTTP origin's headers passed through; our sources are our storage"
LOADERS = "needs a libvips build without the PNG loader/saver"
RASTERIZE = "IMGPROXY_ALWAYS_RASTERIZE_SVG is not offered"
CONFIG_ONLY = "an imgproxy response-header setting we do not offer (ETag is always sent)"
SKIP = {
    **{
        f"{t}/{n}": OUTSIDE
        for t in ("V3_HANDLER", "V4_HANDLER")
        for n in (
            "TestSourceValidation/match http URL without wildcard",
            "TestSourceValidation/match http URL with wildcard in hostname single level",
            "TestSourceValidation/match http URL with wildcard in hostname multiple levels",
            "TestSourceValidation/no match http URL with wildcard in hostname including slash",
            "TestSourceNetworkValidation/loopback allowed",
            "TestSourceNetworkValidation/loopback refused",
        )
    },
    **{
        f"{t}/{n}": ORIGIN
        for t in ("V3_HANDLER", "V4_HANDLER")
        for n in (
            "TestCacheControlPassthroughCacheControl",
            "TestCacheControlPassthroughExpires",
            "TestCacheControlPassthroughDisabled",
            "TestLastModifiedEnabled",
            "TestLastModifiedDisabled",
            "TestModifiedSinceReqExactMatchLastModifiedEnabled",
            "TestModifiedSinceReqExactMatchLastModifiedDisabled",
            "TestETagDataMatch",
            "TestLastModifiedBuster",
        )
    },
    **{
        f"{t}/{n}": LOADERS
        for t in ("V3_HANDLER", "V4_HANDLER")
        for n in ("TestSourceFormatNotSupported", "TestResultingFormatNotSupported")
    },
    **{
        f"{t}/{n}": RASTERIZE
        for t in ("V3_HANDLER", "V4_HANDLER")
        for n in (
            "TestAlwaysRasterizeSvg",
            "TestAlwaysRasterizeSvgWithEnforceAvif",
            "TestAlwaysRasterizeSvgWithEnforceWebP",
            "TestAlwaysRasterizeSvgDisabled",
            "TestAlwaysRasterizeSvgWithFormat",
        )
    },
    "V3_HANDLER/TestETagDisabled": CONFIG_ONLY,
    "V4_HANDLER/TestETagDisabled": CONFIG_ONLY,
}
# Our answer where it deliberately differs (README): name -> status.
DELIBERATE = {
    "TestSourceValidation/no match s3 URL with allowed local and http URLs": 400,
    "TestSourceValidation/s3 not allowed": 400,
    "TestMaxSrcFileSizeGlobal": 413,  # imgproxy 422
    "TestBMPUnsupportedBitDepthRejected": 422,  # imgproxy 500
}


def _env(config: dict[str, Any]) -> dict[str, str]:
    env = {"PREVIEWS_ALLOW_SECURITY_OPTIONS": "on"}
    if "keys_hex" in config:
        env["SIGNATURE_KEY"] = ",".join(config["keys_hex"])
        env["SIGNATURE_SALT"] = ",".join(config["salts_hex"])
    if "skip_processing_formats" in config:
        env["PREVIEWS_SKIP_PROCESSING_FORMATS"] = ",".join(config["skip_processing_formats"])
    if "presets" in config:
        env["PREVIEWS_PRESETS"] = ";".join(config["presets"])
    if "quality" in config:
        env["PREVIEWS_QUALITY"] = str(config["quality"])
    return env


@pytest.mark.parametrize("row", params("V3_HANDLER", "V4_HANDLER", skip=SKIP))
async def test_handler(
    make_client: Callable[..., Any],
    make_settings: Callable[..., Any],
    put_file: Callable[..., Any],
    row: dict[str, Any],
) -> None:
    path: str = row["path"]
    expect = row["expect"]
    key = path.split("local:///", 1)[1].split("@")[0] if "local:///" in path else ""
    if key:
        put_file(key, make(key))
    if row["name"] == "TestMaxSrcFileSizeGlobal":
        path = "/unsafe/msfs:1/rs:fill:4:4/plain/local:///test1.png"
        put_file("test1.png", make("test1.png"))
        key = "test1.png"
    if row["name"] == "TestMaxBytes":
        limit = len(make(key)) // 2  # imgproxy's case: half the source
        path = path.replace("mb:22533", f"mb:{limit}")
        expect = {**expect, "max_body_bytes": limit}
    config = row.get("config", {})
    client = await make_client(make_settings(**_env(config)))
    url = "/previews" + path.replace("local:///", "abc-public/")
    signature, _, rest = path[1:].partition("/")
    if "keys_raw" in config and signature == _sign(config, "/" + rest):
        # A valid signature of imgproxy's path: sign our path (local:/// moved) the same way.
        local = "/" + rest.replace("local:///", "abc-public/")
        url = f"/previews/{_sign(config, local)}{local}"
    response = await client.get(url, headers=row.get("headers", {}))
    body = await response.read()
    status = DELIBERATE.get(row["name"], expect["status"])
    assert response.status == status, body[:200]
    if status != 200:
        return
    if "content_type" in expect:
        assert response.headers["Content-Type"] == expect["content_type"]
    if "format" in expect:
        assert sniff(body).format == expect["format"]
    if "width" in expect:
        image = pyvips.Image.new_from_buffer(body, "")
        assert (image.width, image.height) == (expect["width"], expect["height"])
    if "body_equals_source" in expect:
        assert (body == make(key)) == expect["body_equals_source"]
    if "body_equals" in expect:
        # Our test1.svg is imgproxy v4's; the sanitiser is v4's (v3 kept less out).
        assert body == SANITISED_TEST1_SVG.encode()
    if "max_body_bytes" in expect:
        assert len(body) <= expect["max_body_bytes"]
    if "dct_distance_to_source" in expect:
        await _quality_facts(client, row, body)


def _sign(config: dict[str, Any], path: str) -> str:
    key, salt = config["keys_raw"][0].encode(), config["salts_raw"][0].encode()
    digest = hmac.new(key, salt + path.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def _quality_facts(client: Any, row: dict[str, Any], body: bytes) -> None:
    """imgproxy's DCT distances are its own metric; what carries over is the ordering:
    q:99 and the configured default 99 are the same render, q:1 and fq:jpg:1 too."""
    base = "/previews/unsafe/{}/plain/abc-public/test-images/jpg/jpg.jpg@jpg"
    same = {
        "TestQualitySettings/q_99": "cb:x",  # the configured quality 99
        "TestQualitySettings/no_q": "q:99",
        "TestQualitySettings/q_1": "fq:jpg:1",
        "TestQualitySettings/fq_jpg_1": "q:1",
    }[row["name"]]
    other = await (await client.get(base.format(same))).read()
    assert other == body
    if row["name"].endswith("q_1"):
        best = await (await client.get(base.format("q:99"))).read()
        assert len(body) < len(best) / 3
