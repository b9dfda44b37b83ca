import asyncio

import pyvips

from proxy.web.app import SERVICES
from tests.conftest import encode_image, read_metric
from tests.converter import media

FRAMES = 30


async def conversions(client, kind: str) -> float:
    return await read_metric(client, "proxy_conversions_total", kind=kind)


async def storage_bytes(client) -> float:
    return await read_metric(client, "proxy_storage_read_bytes_total")


def decoded(body: bytes) -> pyvips.Image:
    return pyvips.Image.new_from_buffer(body, "")


async def test_browser_formats_pass_through_byte_for_byte(client, put_file, jpeg_bytes):
    put_file("images/photo.bin", jpeg_bytes)  # the type comes from the bytes, not the name
    response = await client.get("/image-converter/convert/abc-public/images/photo.bin")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert await response.read() == jpeg_bytes


async def test_tiff_is_converted_once_then_served_from_the_converter_cache(client, put_file):
    put_file("scans/g.tif", media.tiff16(media.gradient16()))
    url = "/image-converter/convert/abc-public/scans/g.tif"
    before = await conversions(client, "convert")
    first = await client.get(url)
    assert first.status == 200
    assert first.headers["Content-Type"] == "image/png"
    assert first.headers["X-Cache-Status"] == "MISS"
    image = decoded(await first.read())
    assert (image.width, image.height, image.format) == (256, 8, "uchar")

    read_before = await storage_bytes(client)
    second = await client.get(url)
    assert second.headers["X-Cache-Status"] == "HIT"
    assert await second.read() == await first.read()
    assert await storage_bytes(client) == read_before
    assert await conversions(client, "convert") == before + 1

    etag = second.headers["ETag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status == 304


async def test_format_parameter_overrides(client, put_file, jpeg_bytes):
    put_file("scans/g.tif", media.tiff16(media.gradient16()))
    put_file("images/a.jpg", jpeg_bytes)
    response = await client.get("/image-converter/convert/abc-public/scans/g.tif?format=jpeg")
    assert response.headers["Content-Type"] == "image/jpeg"
    response = await client.get("/image-converter/convert/abc-public/images/a.jpg?format=png")
    assert response.headers["Content-Type"] == "image/png"
    assert decoded(await response.read()).width == 640


async def test_bad_input_gets_a_clear_status(make_client, make_settings, put_file):
    client = await make_client(make_settings(PREVIEWS_MAX_SRC_FILE_SIZE="4k"))
    put_file("docs/a.pdf", b"%PDF-1.4\n" + b"x" * 100)
    put_file("images/big.tif", encode_image(200, 200, ".tif"))
    cases = {
        "/image-converter/convert/abc-public/docs/a.pdf": (415, "application/pdf"),
        "/image-converter/convert/abc-public/images/big.tif": (413, "over the limit"),
        "/image-converter/convert/abc-public/docs/missing.tif": (404, "not found"),
        "/image-converter/convert/nope-bucket/docs/a.pdf": (404, "not found"),
        "/image-converter/convert/abc-public/docs/a.pdf?format=bmp": (400, "bad format"),
        "/image-converter/rotate/abc-public/docs/a.pdf": (404, "unknown"),
        "/image-converter/videoframe/abc/abc-public/v.mp4": (400, "bad video position"),
        "/image-converter/videoframe/101p/abc-public/v.mp4": (416, "past the end"),
    }
    for url, (status, reason) in cases.items():
        response = await client.get(url)
        assert response.status == status, url
        assert reason in await response.text(), url


async def test_videoframe_from_a_cached_video(client, put_file):
    put_file("videos/v.mp4", media.video("mp4", "libx264", frames=FRAMES))
    url = "/image-converter/videoframe/33p/abc-public/videos/v.mp4?videoStreamIndex=0"
    before = await conversions(client, "videoframe")
    first = await client.get(url)
    assert first.status == 200
    assert first.headers["Content-Type"] == "image/jpeg"
    image = decoded(await first.read())
    assert (image.width, image.height) == (64, 48)
    assert abs(media.frame_index(image.avg()) - round(FRAMES * 0.33)) <= 1

    # Another spelling of the same position shares the cache entry.
    second = await client.get("/image-converter/videoframe/33.0p/abc-public/videos/v.mp4")
    assert second.headers["X-Cache-Status"] == "HIT"
    assert await conversions(client, "videoframe") == before + 1

    png = await client.get("/image-converter/videoframe/5/abc-public/videos/v.mp4?format=png")
    assert png.headers["Content-Type"] == "image/png"
    assert media.frame_index(decoded(await png.read()).avg()) == 5


async def test_videoframe_errors(client, put_file):
    body = media.video("webm", "libvpx-vp9", frames=FRAMES)
    put_file("videos/v.webm", body)
    put_file("videos/bad.mp4", body[:40] + bytes(2000))
    base = "/image-converter/videoframe"
    past = await client.get(f"{base}/10s/abc-public/videos/v.webm")
    assert past.status == 416 and "past the end" in await past.text()
    stream = await client.get(f"{base}/1/abc-public/videos/v.webm?videoStreamIndex=2")
    assert stream.status == 404 and "no video stream 2" in await stream.text()
    corrupt = await client.get(f"{base}/1/abc-public/videos/bad.mp4")
    assert corrupt.status == 422
    ok = await client.get(f"{base}/50p/abc-public/videos/v.webm")
    assert ok.status == 200


async def test_frame_of_a_large_video_reads_only_part_of_it(make_client, make_settings, put_file):
    client = await make_client(make_settings(CACHE_MAX_OBJECT_SIZE="256k"))
    body = media.video("mp4", "mpeg4", frames=FRAMES, size=(480, 360), noise=120, gop=5)
    assert len(body) > 2 * 256 * 1024
    put_file("videos/big.mp4", body)
    before = await storage_bytes(client)
    response = await client.get("/image-converter/videoframe/50p/abc-public/videos/big.mp4")
    assert response.status == 200
    image = decoded(await response.read())
    # The noise sits in the top-left quarter; the rest carries the frame number.
    grey = image.crop(240, 180, 240, 180).avg()
    assert abs(media.frame_index(grey) - FRAMES // 2) <= 1
    read = await storage_bytes(client) - before
    print(f"read {read} of {len(body)}")
    assert read < len(body) / 4
    svc = client.server.app[SERVICES]
    assert await svc.originals.lookup("abc-public", "videos/big.mp4") is None


async def test_concurrent_requests_decode_once(client, put_file):
    put_file("videos/c.mp4", media.video("mp4", "libx264", frames=FRAMES))
    url = "/image-converter/videoframe/2s/abc-public/videos/c.mp4"
    before = await conversions(client, "videoframe")
    responses = await asyncio.gather(*(client.get(url) for _ in range(4)))
    bodies = {await r.read() for r in responses}
    assert [r.status for r in responses] == [200] * 4
    assert len(bodies) == 1
    assert await conversions(client, "videoframe") == before + 1


async def test_purging_the_original_drops_its_conversions(client, put_file):
    put_file("videos/p.mp4", media.video("mp4", "libx264", frames=FRAMES))
    url = "/image-converter/videoframe/1/abc-public/videos/p.mp4"
    assert (await client.get(url)).status == 200
    cache = client.server.app[SERVICES].caches.image_converter
    assert cache.purge_prefix("abc-public/videos/p.mp4") == 1
    again = await client.get(url)
    assert again.headers["X-Cache-Status"] == "MISS"
