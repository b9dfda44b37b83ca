import pytest

from proxy.sniff import sniff
from tests.conftest import encode_image
from tests.converter import media


@pytest.mark.parametrize(
    ("make", "kind", "mime"),
    [
        (lambda: encode_image(8, 8, ".jpg"), "jpeg", "image/jpeg"),
        (lambda: encode_image(8, 8, ".png"), "png", "image/png"),
        (lambda: encode_image(8, 8, ".gif"), "gif", "image/gif"),
        (lambda: encode_image(8, 8, ".webp"), "webp", "image/webp"),
        (lambda: encode_image(8, 8, ".avif"), "avif", "image/avif"),
        (lambda: encode_image(8, 8, ".tif"), "tiff", "image/tiff"),
        (media.heic, "heif", "image/heic"),
        (media.mpo, "mpo", "image/mpo"),
        (media.bmp, "bmp", "image/bmp"),
        (lambda: media.video("mp4", "mpeg4", frames=2), "mp4", "video/mp4"),
        (lambda: media.video("webm", "libvpx-vp9", frames=2), "matroska", "video/webm"),
        (lambda: b"%PDF-1.7\n", "pdf", "application/pdf"),
        (lambda: b"just some text", "unknown", "application/octet-stream"),
        (lambda: b"", "unknown", "application/octet-stream"),
    ],
)
def test_sniff(make, kind, mime):
    detected = sniff(make())
    assert (detected.kind, detected.mime) == (kind, mime)


def test_browser_viewable():
    assert sniff(encode_image(8, 8, ".png")).browser_viewable
    assert not sniff(media.mpo()).browser_viewable


def test_broken_jpeg_headers_do_not_raise():
    assert sniff(b"\xff\xd8\xff\xe2\x00").kind == "jpeg"


def test_the_preview_format_of_what_a_preview_can_be():
    for suffix, name in ((".jpg", "jpeg"), (".png", "png"), (".gif", "gif"), (".webp", "webp")):
        assert sniff(encode_image(8, 8, suffix)).format == name
    assert sniff(media.mpo()).format == "jpeg"
    assert sniff(media.bmp()).format == "bmp"
    assert sniff(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>').format == "svg"
    assert sniff(b"<html><body>not an svg</body></html>").format is None
    assert sniff(b"hello").format is None
