"""`/info` through the real app: fields, signatures, the cache, and what bad input gets."""

from __future__ import annotations

import hashlib
import io
import json

import av
import numpy as np
import pytest
import pyvips

from proxy import admin
from proxy.access.signature import sign
from tests.conftest import encode_image
from tests.converter.media import video
from tests.jobs.helpers import CRASH, EAT, SPIN
from tests.previews.conftest import png_declaring, with_alpha

KEY, SALT = "736563726574", "68656c6c6f"


def jpeg_with_metadata() -> bytes:
    """400x300 stored, EXIF orientation 6 (so 300x400 upright), a model, IPTC and XMP."""
    image = pyvips.Image.new_from_buffer(encode_image(400, 300, ".jpg"), "")
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Model", "NIKON D810")
    iptc = (
        b"\x1c\x02\x05\x00\x0aSpider-Man"
        + b"\x1c\x02\x19\x00\x06spider"
        + b"\x1c\x02\x19\x00\x04hero"
    )
    block = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + len(iptc).to_bytes(4, "big") + iptc
    image.set_type(pyvips.GValue.blob_type, "iptc-data", block)
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns:dc="http://purl.org/dc/elements/1.1/"><rdf:Description dc:format="image/jpeg">'
        b"<dc:creator><rdf:Seq><rdf:li>Peter B. Parker</rdf:li></rdf:Seq></dc:creator>"
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    image.set_type(pyvips.GValue.blob_type, "xmp-data", xmp)
    return bytes(image.jpegsave_buffer(keep="exif|iptc|xmp"))


async def info(client, url: str) -> tuple[int, dict | str, dict]:  # type: ignore[no-untyped-def]
    response = await client.get(url)
    text = await response.text()
    if response.status != 200:
        return response.status, text, dict(response.headers)
    assert response.headers["Content-Type"].startswith("application/json")
    return response.status, json.loads(text), dict(response.headers)


async def test_default_fields_follow_imgproxy(make_client, make_settings, put_file):
    put_file("photo.jpg", jpeg_with_metadata())
    client = await make_client(make_settings())
    status, body, _ = await info(client, "/info/_/plain/abc-public/photo.jpg")
    assert status == 200
    assert body["size"] > 0 and body["format"] == "jpeg" and body["mime_type"] == "image/jpeg"
    assert (body["width"], body["height"], body["orientation"]) == (300, 400, 6)
    assert body["exif"]["Model"] == "NIKON D810"
    assert body["iptc"] == {"Name": "Spider-Man", "Keywords": ["spider", "hero"]}
    assert body["xmp"]["dc"] == {"format": "image/jpeg", "creator": ["Peter B. Parker"]}
    assert not {"colorspace", "blurhash", "average", "hashsums"} & set(body)


async def test_every_field_when_asked(make_client, make_settings, put_file):
    data = with_alpha(64, 32)
    put_file("a.png", data)
    client = await make_client(make_settings())
    options = "s:0/exif:0/iptc:0/xmp:0/cs:1/b:1/sf:1/pn:1/a:1:1/c:32:32:ea/p:2/avg:1:0/dc:1:1"
    options += "/bh:4:3/th:1/chs:md5:sha256"
    status, body, _ = await info(client, f"/info/_/{options}/plain/abc-public/a.png")
    assert status == 200, body
    assert "size" not in body and "exif" not in body
    assert (body["colorspace"], body["bands"], body["sample_format"]) == ("srgb", 4, "uchar")
    assert body["pages_number"] == 1
    assert body["alpha"] == {"alpha": True, "transparent": True}
    assert body["crop"] == {"left": 0.5, "top": 0.0, "width": 0.5, "height": 1.0}
    assert {(c["R"], c["G"], c["B"], c["A"]) for c in body["palette"]} == {
        (255, 0, 0, 255),
        (255, 0, 0, 0),
    }
    # Half opaque red, half transparent red: the transparent half counts when asked to.
    assert body["average"] == {"R": 255, "G": 0, "B": 0, "A": 128}
    assert body["dominant_colors"]["vibrant"] == {"R": 255, "G": 0, "B": 0}
    assert len(body["blurhash"]) == 4 + 2 * 4 * 3 and len(body["thumb_hash"]) > 10
    assert body["hashsums"] == {
        "md5": hashlib.md5(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


async def test_average_ignores_transparent_pixels_by_default(make_client, make_settings, put_file):
    put_file("a.png", with_alpha(64, 32))
    client = await make_client(make_settings())
    _, body, _ = await info(client, "/info/_/avg:1/plain/abc-public/a.png")
    assert body["average"] == {"R": 255, "G": 0, "B": 0, "A": 255}


async def test_a_smart_crop_finds_the_interesting_part(make_client, make_settings, put_file):
    canvas = pyvips.Image.black(400, 200).new_from_image([128, 128, 128])
    spot = pyvips.Image.black(40, 40).new_from_image([255, 0, 0])
    image = canvas.insert(spot, 330, 80).cast("uchar").copy(interpretation="srgb")
    put_file("spot.png", image.pngsave_buffer())
    client = await make_client(make_settings())
    _, body, _ = await info(client, "/info/_/c:100:100:sm/plain/abc-public/spot.png")
    crop = body["crop"]
    assert (crop["width"], crop["height"]) == (0.25, 0.5)
    assert crop["left"] * 400 <= 330 and (crop["left"] + crop["width"]) * 400 >= 370


async def test_signed_like_previews_and_the_key_leaves_out_the_signature(
    make_client, make_settings, put_file
):
    put_file("photo.jpg", encode_image(64, 48))
    client = await make_client(make_settings(SIGNATURE_KEY=KEY, SIGNATURE_SALT=SALT))
    path = "/d:1/plain/abc-public/photo.jpg"
    good = sign(bytes.fromhex(KEY), bytes.fromhex(SALT), path)
    status, body, headers = await info(client, f"/info/{good}{path}")
    assert status == 200 and headers["X-Cache-Status"] == "MISS"
    assert (await client.get(f"/info/unsafe{path}")).status == 403
    assert (await client.get(f"/info/{good}/d:0/plain/abc-public/photo.jpg")).status == 403
    # A trusted spelling of the same URL is the same entry.
    trusted = await make_client(
        make_settings(SIGNATURE_KEY=KEY, SIGNATURE_SALT=SALT, SIGNATURE_TRUSTED="ok")
    )
    status, again, headers = await info(
        trusted, "/info/ok/dimensions:true/plain/abc-public/photo.jpg"
    )
    assert status == 200 and headers["X-Cache-Status"] == "HIT" and again == body


async def test_base64_source(make_client, make_settings, put_file):
    import base64

    put_file("photo.jpg", encode_image(64, 48))
    client = await make_client(make_settings())
    encoded = base64.urlsafe_b64encode(b"abc-public/photo.jpg").rstrip(b"=").decode()
    status, body, _ = await info(client, f"/info/_/{encoded}")
    assert status == 200 and (body["width"], body["height"]) == (64, 48)


async def test_a_cached_answer_reads_nothing_and_a_purge_drops_it(
    make_client, make_settings, put_file, data_path
):
    settings = make_settings(CACHE_MEMORY_SIZE="0")  # a purge is seen at once, not within 1 s
    stored = put_file("photo.jpg", encode_image(64, 48))
    client = await make_client(settings)
    url = "/info/_/bh:3:3/plain/abc-public/photo.jpg"
    first = await info(client, url)
    stored.write_bytes(encode_image(32, 16))  # the store changes; the cache still answers
    second = await info(client, url)
    assert second[2]["X-Cache-Status"] == "HIT" and second[1] == first[1]
    admin.purge(settings, "storage", "abc-public/photo.jpg")
    third = await info(client, "/info/_/bh:3:3/plain/abc-public/photo.jpg")
    assert third[2]["X-Cache-Status"] == "MISS" and third[1]["width"] == 32


async def test_a_source_in_the_storage_cache_is_not_read_again(
    make_client, make_settings, put_file
):
    stored = put_file("photo.jpg", encode_image(64, 48))
    client = await make_client(make_settings())
    await (await client.get("/abc-public/photo.jpg")).read()  # now in the storage cache
    stored.unlink()
    status, body, _ = await info(client, "/info/_/d:1/chs:sha1/plain/abc-public/photo.jpg")
    assert status == 200 and body["width"] == 64


async def test_converter_sources(make_client, make_settings, put_file):
    from tests.converter.media import bmp

    put_file("x.bmp", bmp(30, 20))
    client = await make_client(make_settings())
    status, body, _ = await info(client, "/info/_/plain/image-converter/convert/abc-public/x.bmp")
    assert status == 200 and (body["width"], body["height"]) == (30, 20)
    assert body["format"] == "png"


async def test_a_video_tells_its_streams(make_client, make_settings, put_file):
    put_file("v.mp4", video("mp4", "mpeg4", frames=20, size=(64, 48), rate=10))
    client = await make_client(make_settings())
    status, body, _ = await info(client, "/info/_/plain/abc-public/v.mp4")
    assert status == 200, body
    assert (body["width"], body["height"]) == (64, 48)
    assert "mp4" in body["format"].split(",") and body["mime_type"] == "video/mp4"
    (stream,) = body["video_streams"]
    assert stream["type"] == "video" and stream["codec"] == "mpeg4"
    assert stream["duration"] == pytest.approx(2.0, abs=0.15) and stream["fps"] == 10


def audio_only() -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="matroska") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), "s16", "mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
    return out.getvalue()


async def test_bad_input_gets_a_clear_status_and_nothing_is_cached(
    make_client, make_settings, put_file, data_path
):
    settings = make_settings(PREVIEWS_MAX_SRC_FILE_SIZE="64k")
    put_file("photo.jpg", encode_image(64, 48))
    put_file("text.txt", b"just some words, not an image")
    put_file("cut.png", with_alpha(300, 200)[:600])
    put_file("huge.png", png_declaring(30000, 30000))
    put_file("big.jpg", encode_image(800, 800, Q=100))
    put_file("sound.mkv", audio_only())
    client = await make_client(settings)
    cases = {
        "/info/_/bogus:1/plain/abc-public/photo.jpg": (400, "bogus"),
        "/info/_/bh:10:3/plain/abc-public/photo.jpg": (400, "bh"),
        "/info/_/bh:0:3/plain/abc-public/photo.jpg": (400, "bh"),
        "/info/_/plain/abc-public/text.txt": (415, "not an image"),
        "/info/_/avg:1/plain/abc-public/cut.png": (422, "truncated or corrupt"),
        "/info/_/plain/abc-public/huge.png": (422, "resolution"),
        "/info/_/plain/abc-public/big.jpg": (413, "over the limit"),
        "/info/_/plain/abc-public/sound.mkv": (422, "no video stream"),
        "/info/_/plain/abc-public/missing.jpg": (404, "not found"),
        "/info/_/exp:1/plain/abc-public/photo.jpg": (404, "expired"),
        "/info/_/msr:1/plain/abc-public/photo.jpg": (403, "security option"),
    }
    for url, (status, reason) in cases.items():
        got, text, _ = await info(client, url)
        assert (got, reason in str(text)) == (status, True), (url, got, text)
    stats = {row["cache"]: row for row in admin.cache_stats(settings)}
    assert stats["previews"]["entries"] == 0  # nothing half-computed was kept


async def test_a_job_that_crashes_runs_over_or_eats_memory_costs_one_request_and_caches_nothing(
    make_client, make_settings, put_file, data_path
):
    """The test-only hostile sources (PROXY_JOB_TEST_HOOKS): the render process dies or is
    killed; the answer says so, nothing is kept, and the next job runs."""
    settings = make_settings(
        REQUEST_TIMEOUT="2s", PREVIEWS_CONCURRENCY="1", PREVIEWS_MEMORY_LIMIT="128m"
    )
    put_file("crash.jpg", CRASH)
    put_file("spin.jpg", SPIN)
    put_file("eat.jpg", EAT)
    put_file("photo.jpg", encode_image(64, 48))
    client = await make_client(settings)
    for name, status in (("crash", 422), ("spin", 504), ("eat", 422)):
        got, text, _ = await info(client, f"/info/_/avg:1/plain/abc-public/{name}.jpg")
        assert got == status, (name, text)
    stats = {row["cache"]: row for row in admin.cache_stats(settings)}
    assert stats["previews"]["entries"] == 0
    status, body, _ = await info(client, "/info/_/avg:1/plain/abc-public/photo.jpg")
    assert status == 200 and set(body["average"]) == {"R", "G", "B", "A"}


async def test_size_and_format_of_a_file_that_is_no_image(make_client, make_settings, put_file):
    put_file("text.txt", b"just some words")
    client = await make_client(make_settings())
    status, body, _ = await info(client, "/info/_/d:0/plain/abc-public/text.txt")
    assert status == 200
    assert body == {"size": 15, "format": "unknown", "mime_type": "application/octet-stream"}
