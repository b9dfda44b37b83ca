"""The one table of image formats: names, aliases, content types, file extensions, URL names."""

from __future__ import annotations

import pytest

from proxy.formats import ALIASES, CONTENT_TYPES, EXTENSIONS, URL_NAMES, canonical, url_format


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("jpg", "jpeg"), ("JPEG", "jpeg"), ("Tif", "tiff"), ("webp", "webp"), ("HEIC", "heic")],
)
def test_names_and_aliases_are_case_insensitive(name, fmt):
    assert canonical(name) == fmt


@pytest.mark.parametrize("name", ["mp4", "pdf", "", "jpe", "image/png"])
def test_what_is_none_of_ours(name):
    assert canonical(name) is None


def test_every_format_is_its_own_name():
    for fmt in CONTENT_TYPES:
        assert canonical(fmt) == fmt
    assert set(ALIASES.values()) == set(CONTENT_TYPES)


def test_url_names_are_imgproxy_s_exactly():
    assert url_format("jpg") == url_format("jpeg") == "jpeg"
    assert url_format("tif") is None  # imgproxy has no `tif`
    assert url_format("PNG") is None  # and its names are case-sensitive
    assert set(URL_NAMES.values()) == set(CONTENT_TYPES)


def test_content_types_and_download_extensions():
    assert CONTENT_TYPES["jpeg"] == "image/jpeg"
    assert CONTENT_TYPES["heic"] == "image/heif"
    assert CONTENT_TYPES["svg"] == "image/svg+xml"
    assert all(ctype.startswith("image/") for ctype in CONTENT_TYPES.values())
    assert EXTENSIONS["image/jpeg"] == "jpg"
    assert EXTENSIONS["image/x-icon"] == "ico"
    assert EXTENSIONS["image/svg+xml"] == "svg"
    assert len(EXTENSIONS) == len(CONTENT_TYPES)  # one content type per format
