import base64

import pytest

from proxy.errors import BadRequest
from proxy.previews.url import parse_url


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_plain_source_with_extension_and_query():
    url = parse_url(
        "q/rs:fill:300/plain/image-converter/videoframe/33p/abc-public/v%20x.mp4@png",
        "videoStreamIndex=0",
    )
    assert url.signature == "q"
    assert url.options == ("rs:fill:300",)
    assert url.source == "image-converter/videoframe/33p/abc-public/v x.mp4"
    assert url.query == (("videoStreamIndex", "0"),)
    assert url.extension == "png"
    assert (
        url.signed_path
        == "/rs:fill:300/plain/image-converter/videoframe/33p/abc-public/v%20x.mp4@png?videoStreamIndex=0"
    )


def test_an_at_sign_in_a_key_is_written_percent_encoded():
    # imgproxy's rule: everything after an `@` is the format.
    assert parse_url("q/w:1/plain/abc-public/icon%402x.png").source == "abc-public/icon@2x.png"
    with pytest.raises(BadRequest, match="unknown format"):
        parse_url("q/w:1/plain/abc-public/icon@2x.png")


def test_base64_source_split_and_unpadded():
    encoded = b64("abc-public/images/a.jpg")
    split = "/".join(encoded[i : i + 7] for i in range(0, len(encoded), 7))
    url = parse_url(f"sig/w:100/{split}.webp")
    assert url.source == "abc-public/images/a.jpg"
    assert url.extension == "webp"
    assert url.options == ("w:100",)


def test_base64_source_carries_its_query():
    url = parse_url("q/w:1/" + b64("image-converter/videoframe/1p/b/k.mp4?videoStreamIndex=2"))
    assert url.source == "image-converter/videoframe/1p/b/k.mp4"
    assert url.query == (("videoStreamIndex", "2"),)


@pytest.mark.parametrize(
    "legacy, options",
    [
        ("300x,jpeg,q70", ("rs:fit:300:0", "f:jpeg", "q:70")),
        ("x200,png,q5", ("rs:fit:0:200", "f:png", "q:5")),
        ("120x80,webp,q90", ("rs:fit:120:80", "f:webp", "q:90")),
    ],
)
def test_legacy_form(legacy, options):
    url = parse_url(f"{legacy}/image-converter/convert/abc-public/z.jpg")
    assert url.signature is None
    assert url.options == options
    assert url.source == "image-converter/convert/abc-public/z.jpg"


@pytest.mark.parametrize(
    "path",
    [
        "q/w:1/plain/http://example.com/a.jpg",
        "q/w:1/plain/s3://bucket/a.jpg",
        "q/w:1/plain/local:///etc/passwd",
        "q/w:1/" + b64("https://example.com/a.jpg"),
        "q/w:1/plain//abc-public/a.jpg",
        "q/w:1/plain/",
        "q/w:1/not*base64",
        "q/w:1/plain/abc-public/%ff.jpg",
        "q/w:1/plain/abc-public/a%00.jpg",
        "300x,jpeg,q70/http://example.com/a.jpg",
    ],
)
def test_refused_sources(path):
    with pytest.raises(BadRequest):
        parse_url(path)
