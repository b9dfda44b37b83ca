"""imgproxy options/processing_options_test.go (v3, v4) and the derived parser cases.

Each path goes through our `parse_url` and `parse_options`; imgproxy's sources
(http://images.dev/..., local:///...) become our `abc-public/...`. Where imgproxy v3 and
v4 disagree, v4 is followed; where we deliberately differ (README), our answer is
asserted and the row says why.
"""

from __future__ import annotations

import base64
import math
import time
from typing import Any

import pytest

from proxy.errors import NotFound, ProxyError
from proxy.previews.formats import choose
from proxy.previews.options import Options
from proxy.previews.parse import Rules, parse_options
from proxy.previews.url import parse_url
from tests.previews.imgproxy.cases import params

NOT_OFFERED = {
    "base64_url_includes_filename": "IMGPROXY_BASE64_URL_INCLUDES_FILENAME is not offered",
    "base_url": "IMGPROXY_BASE_URL is not offered (sources are bucket/key)",
    "url_replacements": "IMGPROXY_URL_REPLACEMENTS is not offered (sources are bucket/key)",
    "arguments_separator": "IMGPROXY_ARGUMENTS_SEPARATOR is not offered",
    "only_presets": "IMGPROXY_ONLY_PRESETS is not offered",
    "allowed_processing_options": "IMGPROXY_ALLOWED_PROCESSING_OPTIONS is not offered",
    "enable_client_hints": "client hints (Width, DPR headers) are not read",
    "enforce_webp": "IMGPROXY_ENFORCE_WEBP is not offered",
    "enforce_avif": "IMGPROXY_ENFORCE_AVIF is not offered",
    "enforce_jxl": "IMGPROXY_ENFORCE_JXL is not offered",
    "auto_jxl": "JPEG XL is not negotiated (this libvips build cannot write it)",
}
# imgproxy's answer -> ours, where we deliberately differ or follow v4 over v3.
OURS: dict[str, tuple[dict[str, Any] | int, str]] = {
    "/z:inf/plain/local:///x.png": (400, "numbers must be finite"),
    "/dpr:9/plain/local:///x.png": (400, "dpr is capped at 8"),
    "/rot:450/plain/local:///x.png": ({"rotate": 90}, "angles are kept modulo 360"),
    "/rot:-90/plain/local:///x.png": ({"rotate": 270}, "negative angles turn the other way"),
    "/g:no::5/plain/local:///x.png": ({"gravity": {"type": "no", "x": 0.0, "y": 5.0}}, "v4"),
    "/t:-1/plain/local:///x.png": ({"trim": {"threshold": -1.0}}, "v4 takes any float"),
    "/t::ff00ff/plain/local:///x.png": ({"trim": None}, "v4: an empty threshold turns trim off"),
    "/fn:dGVzdA==:1/plain/local:///x.png": ({"filename": "test"}, "v4 trims the '='"),
    "/plain/local:///x%3Fv=1.png": ({}, "the decoded '?' starts the source's query"),
    "/exp:0/plain/local:///x.png": ({"expires": None}, "0 never expires"),
    "/exp:-5/plain/local:///x.png": ({"expires": None}, "negative never expires"),
}


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def localise(path: str) -> str:
    """imgproxy's source spellings, moved to our `abc-public` bucket."""
    path = path.replace("http://images.dev/", "abc-public/").replace("local:///", "abc-public/")
    path = path.replace("http:%2F%2Fimages.dev%2F", "abc-public%2F")
    if "/plain/" in path or path.startswith("/plain/"):
        return path
    head, _, encoded = path.rpartition("/")
    data, dot, ext = encoded.partition(".")
    text = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
    return f"{head}/{_b64(text.replace('http://images.dev/', 'abc-public/'))}{dot}{ext}"


def _presets(config: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in config.get("presets", []))


def _check(options: Options, expect: dict[str, Any]) -> None:
    for name, wanted in expect.items():
        if name in ("used_presets", "prefer_webp", "prefer_avif", "enforce_webp", "enforce_avif"):
            continue  # checked through choose() where they matter
        if name == "padding_enabled":
            assert any(options.padding) == wanted
            continue
        got = getattr(options, name)
        _same(got, wanted, name)


def _same(got: Any, wanted: Any, name: str) -> None:
    if isinstance(wanted, dict):
        if name == "format_quality":
            assert dict(got) == wanted
            return
        if name == "watermark" and not wanted.get("enabled", True):
            assert got is None
            return
        if name == "trim" and "smart" in wanted:
            assert (got.color is None) == wanted["smart"]
            wanted = {k: v for k, v in wanted.items() if k != "smart"}
        for key, value in wanted.items():
            if key == "enabled" and name == "watermark":
                assert got is not None
                continue
            if name == "watermark" and key in ("position", "x", "y"):
                attr = {"position": "type"}.get(key, key)
                _same(getattr(got.position, attr), value, key)
                continue
            _same(getattr(got, key), value, key)
        return
    if isinstance(wanted, list):
        if name == "skip_processing":
            assert set(got) == set(wanted)
            return
        wanted = tuple(wanted)
    if isinstance(wanted, float) and isinstance(got, float):
        assert math.isclose(got, wanted), (name, got, wanted)
        return
    assert got == wanted, (name, got, wanted)


@pytest.mark.parametrize(
    "row", params("V3_OPTION_PARSER", "V4_OPTION_PARSER", "DERIVED_PARSER_CASES")
)
def test_parser(row: dict[str, Any]) -> None:
    config = row.get("config", {})
    missing = [NOT_OFFERED[k] for k in config if k in NOT_OFFERED]
    if missing:
        pytest.skip(missing[0])
    path = row["path"]
    expect: dict[str, Any] | int = row.get("expect_options", row.get("expect_status", 0))
    if path in OURS:
        expect = OURS[path][0]
    rules = Rules(presets=_presets(config), allow_security_options=False)
    try:
        url = parse_url("unsafe" + localise(path))
        options = parse_options(url.options, rules)
        if options.expires is not None and options.expires < time.time():
            raise NotFound("expired")  # the feature checks this per request
    except ProxyError as exc:
        assert isinstance(expect, int), f"refused: {exc.reason}"
        # Our statuses (README): URL and option errors 400, security options 403.
        ours = {"Security": 403, "Expired": 404}
        wanted = next((s for k, s in ours.items() if k in row.get("expect_error", "")), 400)
        assert exc.status == wanted
        return
    assert not isinstance(expect, int), f"accepted; imgproxy refuses: {row.get('expect_error')}"
    if url.extension:
        options = Options(**{**options.__dict__, "format": url.extension})
    _check(options, expect)
    if "expect_source_url" in row:
        source = row["expect_source_url"].replace("http://images.dev/", "abc-public/")
        key, _, query = source.partition("?")
        assert url.source == key
        assert dict(url.query) == dict(p.split("=") for p in query.split("&") if p)
    accept = row.get("headers", {}).get("Accept", "")
    if accept:
        choice = choose(
            options.format, accept, config.get("auto_webp", False), config.get("auto_avif", False)
        )
        for fmt in ("webp", "avif"):
            if f"prefer_{fmt}" in row["expect_options"]:
                assert (fmt in choice.format.split(":")) == row["expect_options"][f"prefer_{fmt}"]
