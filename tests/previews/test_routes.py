"""The /previews/ routes end to end: URL forms, headers, caching, bad input."""

import base64
import time

import pytest

from proxy.access.signature import sign
from proxy.web.app import SERVICES
from tests.conftest import encode_image
from tests.previews.conftest import decode, fetcher, size_of, with_alpha


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# -- the client URLs of DESIGN.md ----------------------------------------------------------


async def test_design_example_fill_width(fetch, put_file):
    put_file("images/original/2/X/Re/photo.jpg", encode_image(640, 480))
    status, body, headers = await fetch(
        "/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/abc-public/images/original/2/X/Re/photo.jpg"
    )
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg" and body[:3] == b"\xff\xd8\xff"
    assert size_of(body) == (300, 225)


async def test_design_example_auto_no_resize(fetch, put_file):
    put_file("images/original/S/j/hJ/x.png", with_alpha(120, 90))
    status, body, headers = await fetch(
        "/previews/q/ext:jpeg/resize:auto:0:0:0/q:70/plain/abc-public/images/original/S/j/hJ/x.png"
    )
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert size_of(body) == (120, 90)


async def test_design_example_fill_height_default_quality(fetch, put_file):
    put_file("images/original/a/b/cd/y.jpg", encode_image(640, 480))
    status, body, _ = await fetch(
        "/previews/q/ext:jpeg/resize:fill:0:200:0/q:0/plain/abc-public/images/original/a/b/cd/y.jpg"
    )
    assert status == 200
    assert size_of(body) == (267, 200)


def _video(width: int, height: int) -> bytes:
    import io

    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(10):
            pixels = np.full((height, width, 3), i * 20, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


async def test_design_example_video_frame(client, fetch, put_file):
    put_file("videos/Z/d/HD/v.mp4", _video(320, 240))
    status, body, headers = await fetch(
        "/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/image-converter/videoframe/33p/abc-public/videos/Z/d/HD/v.mp4?videoStreamIndex=0"
    )
    assert status == 200, body
    assert headers["Content-Type"] == "image/jpeg"
    assert size_of(body) == (300, 225)


async def test_design_example_legacy_converted(client, fetch, put_file):
    put_file("images/original/7/h/Vo/z.jpg", encode_image(640, 480))
    status, body, headers = await fetch(
        "/previews/300x,jpeg,q70/image-converter/convert/abc-public/images/original/7/h/Vo/z.jpg"
    )
    assert status == 200, body
    assert headers["Content-Type"] == "image/jpeg"
    assert size_of(body) == (300, 225)


async def test_legacy_form_on_an_original(fetch, photo):
    status, body, headers = await fetch(f"/previews/300x,png,q70/{photo}")
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert size_of(body) == (300, 225)
    status, body, _ = await fetch(f"/previews/x120,jpeg,q70/{photo}")
    assert size_of(body) == (160, 120)


# -- URL forms -----------------------------------------------------------------------------


async def test_base64_source_split_with_extension(fetch, photo):
    encoded = b64(photo)
    split = "/".join(encoded[i : i + 10] for i in range(0, len(encoded), 10))
    status, body, headers = await fetch(f"/previews/insecure/rs:fit:100:100/{split}.webp")
    assert status == 200 and headers["Content-Type"] == "image/webp"
    assert body[8:12] == b"WEBP" and size_of(body) == (100, 75)


async def test_percent_encoded_plain_source(fetch, put_file):
    put_file("images/with space+plus.jpg", encode_image(64, 48))
    status, body, _ = await fetch(
        "/previews/_/w:32/plain/abc-public/images/with%20space%2Bplus.jpg"
    )
    assert status == 200 and size_of(body) == (32, 24)


async def test_extension_beats_format_option(fetch, photo):
    _, body, headers = await fetch(f"/previews/_/f:webp/w:20/plain/{photo}@png")
    assert headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG")


# -- headers and caching ---------------------------------------------------------------------


async def test_headers_hit_and_304(client, fetch, photo):
    url = f"/previews/q/rs:fill:100:100/plain/{photo}"
    status, first, headers = await fetch(url)
    assert status == 200 and headers["X-Cache-Status"] == "MISS"
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"] == "max-age=86400"
    assert headers["ETag"].startswith('"') and "Last-Modified" in headers
    assert "Vary" not in headers and "Content-Disposition" not in headers
    status, second, again = await fetch(url)
    assert second == first and again["X-Cache-Status"] == "HIT"
    assert again["ETag"] == headers["ETag"]
    response = await client.get(url, headers={"If-None-Match": headers["ETag"]})
    assert response.status == 304
    assert response.headers["ETag"] == headers["ETag"]


async def test_equivalent_urls_and_signatures_share_an_entry(fetch, photo):
    _, _, first = await fetch(f"/previews/q/rs:fill:300/plain/{photo}")
    _, _, second = await fetch(f"/previews/other/resize:fill:300:0:0/plain/{photo}")
    _, _, third = await fetch(f"/previews/_/rs:fill:300/{b64(photo)}")
    assert first["X-Cache-Status"] == "MISS"
    assert second["X-Cache-Status"] == third["X-Cache-Status"] == "HIT"
    assert first["ETag"] == second["ETag"] == third["ETag"]


async def test_different_formats_are_different_entries(fetch, photo):
    _, _, jpeg = await fetch(f"/previews/q/w:50/plain/{photo}@jpeg")
    _, _, png = await fetch(f"/previews/q/w:50/plain/{photo}@png")
    assert png["X-Cache-Status"] == "MISS" and jpeg["ETag"] != png["ETag"]


async def test_content_disposition(fetch, photo):
    # imgproxy never percent-decodes option arguments: a name with a space is base64.
    _, _, inline = await fetch(f"/previews/q/fn:{b64('my pic')}:1/plain/{photo}@png")
    assert inline["Content-Disposition"].startswith('inline; filename="my pic.png"')
    _, _, literal = await fetch(f"/previews/q/fn:my%20pic/plain/{photo}@png")
    assert literal["Content-Disposition"].startswith('inline; filename="my%20pic.png"')
    _, _, attached = await fetch(f"/previews/q/att:1/plain/{photo}")
    assert attached["Content-Disposition"].startswith('attachment; filename="photo.jpg"')


async def test_purging_the_original_drops_its_previews(client, fetch, photo):
    url = f"/previews/q/w:40/plain/{photo}"
    await fetch(url)
    assert (await fetch(url))[2]["X-Cache-Status"] == "HIT"
    assert client.app[SERVICES].caches.previews.purge_prefix(photo) >= 1
    assert (await fetch(url))[2]["X-Cache-Status"] == "MISS"


async def test_auto_webp_and_avif_follow_accept(make_client, make_settings, photo):
    client = await make_client(make_settings(PREVIEWS_AUTO_WEBP="on", PREVIEWS_AUTO_AVIF="on"))
    fetch = fetcher(client)
    url = f"/previews/q/w:40/plain/{photo}"
    _, body, headers = await fetch(url, Accept="image/avif,image/webp,*/*")
    assert headers["Content-Type"] == "image/avif" and headers["Vary"] == "Accept"
    _, body, headers = await fetch(url, Accept="image/webp,*/*")
    assert headers["Content-Type"] == "image/webp" and body[8:12] == b"WEBP"
    _, body, headers = await fetch(url, Accept="*/*")
    assert headers["Content-Type"] == "image/jpeg" and headers["Vary"] == "Accept"
    _, _, headers = await fetch(f"/previews/q/w:40/plain/{photo}@png", Accept="image/webp")
    assert headers["Content-Type"] == "image/png" and "Vary" not in headers


async def test_default_preset_applies(make_client, make_settings, photo):
    client = await make_client(
        make_settings(PREVIEWS_PRESETS="default=rs:fit:50:50;big=rs:fit:200:200")
    )
    fetch = fetcher(client)
    _, body, _ = await fetch(f"/previews/q/f:png/plain/{photo}")
    assert size_of(body) == (50, 38)
    _, body, _ = await fetch(f"/previews/q/pr:big/plain/{photo}@png")
    assert size_of(body) == (200, 150)


# -- signatures ------------------------------------------------------------------------------


async def test_signed_urls(make_client, make_settings, photo):
    settings = make_settings(SIGNATURE_KEY=b"secret".hex(), SIGNATURE_SALT=b"hello".hex())
    fetch = fetcher(await make_client(settings))
    path = f"/rs:fill:50:50/plain/{photo}@png"
    status, body, _ = await fetch(f"/previews/{sign(b'secret', b'hello', path)}{path}")
    assert status == 200 and size_of(body) == (50, 50)
    assert (await fetch(f"/previews/q{path}"))[0] == 403
    assert (await fetch(f"/previews/{sign(b'secret', b'hello', '/x')}{path}"))[0] == 403
    assert (await fetch(f"/previews{path}"))[0] == 403
    assert (await fetch(f"/previews/300x,jpeg,q70/{photo}"))[0] == 403


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, status, reason",
    [
        ("/previews/q/bogus:1/plain/{photo}", 400, "bogus"),
        ("/previews/q/rs:fill:1:2:3:4:5:6:7:8/plain/{photo}", 400, "rs"),
        ("/previews/q/q:101/plain/{photo}", 400, "q"),
        ("/previews/q/w:x/plain/{photo}", 400, "w"),
        ("/previews/q/w:10/plain/http://example.com/a.jpg", 400, "source"),
        ("/previews/q/w:10/plain/s3://abc-public/a.jpg", 400, "source"),
        ("/previews/q/w:10/" + b64("https://example.com/a.jpg"), 400, "source"),
        ("/previews/q/w:10/@@@", 400, "base64"),
        ("/previews/q/w:10/plain/nobucket/a.jpg", 404, "not found"),
        ("/previews/q/w:10/plain/abc-public/missing.jpg", 404, "not found"),
        ("/previews/q/w:10/" + b64("abc-public/a/../../etc/passwd"), 400, "invalid"),
        ("/previews/q/exp:1000/plain/{photo}", 404, "expired"),
    ],
)
async def test_bad_requests(fetch, photo, url, status, reason):
    got, body, _headers = await fetch(url.format(photo=photo))
    assert got == status
    assert reason in body.decode()
    assert len(body) < 200 and "Traceback" not in body.decode()


async def test_future_expiry_is_served(fetch, photo):
    status, _, _ = await fetch(f"/previews/q/exp:{int(time.time()) + 3600}/w:10/plain/{photo}")
    assert status == 200


async def test_decoded_output_is_an_image_for_every_format(fetch, photo):
    for ext in ("jpeg", "png", "webp", "avif", "gif", "tiff"):
        status, body, headers = await fetch(f"/previews/q/w:32/plain/{photo}@{ext}")
        assert status == 200, ext
        assert headers["Content-Type"] == f"image/{ext}"
        assert decode(body).width == 32


async def test_a_changed_default_quality_is_a_new_entry_for_avif_written_as_jpeg(
    make_client, make_settings, put_file
):
    # Under 16 px AVIF is written as JPEG (imgproxy's rule), at JPEG's default quality: a
    # changed PREVIEWS_QUALITY must not serve the JPEG made with the old one.
    put_file("tiny.jpg", encode_image(12, 12))
    url = "/previews/q/f:avif/plain/abc-public/tiny.jpg"
    bodies = []
    for quality in ("95", "10"):
        fetch = fetcher(await make_client(make_settings(PREVIEWS_QUALITY=quality)))
        status, body, headers = await fetch(url)
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert headers["X-Cache-Status"] == "MISS"
        bodies.append(body)
    assert len(bodies[1]) < len(bodies[0])
