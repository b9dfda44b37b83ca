"""The image converter over its cache: pass-through, ETags, and sources it will not convert (proxy.converter.feature)."""

from proxy.web.app import SERVICES
from tests.conftest import encode_image, read_metric
from tests.converter import media


async def conversions(client) -> float:  # type: ignore[no-untyped-def]
    return await read_metric(client, "proxy_conversions_total", kind="convert")


async def test_a_browser_format_asked_as_itself_is_the_original(
    client, put_file, jpeg_bytes
) -> None:  # type: ignore[no-untyped-def]
    put_file("a.jpg", jpeg_bytes)
    before = await conversions(client)
    response = await client.get("/image-converter/convert/abc-public/a.jpg?format=jpg")
    assert response.status == 200 and response.headers["Content-Type"] == "image/jpeg"
    assert await response.read() == jpeg_bytes
    png = await client.get("/image-converter/convert/abc-public/a.jpg?format=png")
    assert png.headers["Content-Type"] == "image/png"
    assert await conversions(client) == before + 1  # only the PNG was converted


async def test_a_conversions_etag_survives_an_eviction_and_follows_the_original(
    client, put_file
) -> None:  # type: ignore[no-untyped-def]
    put_file("g.tif", media.tiff16(media.gradient16()))
    url = "/image-converter/convert/abc-public/g.tif"
    first = await client.get(url)
    caches = client.server.app[SERVICES].caches
    assert caches.image_converter.purge_prefix("abc-public/g.tif") == 1
    again = await client.get(url)
    assert again.headers["X-Cache-Status"] == "MISS"
    assert again.headers["ETag"] == first.headers["ETag"]
    other = await client.get(url + "?format=webp")
    assert other.headers["ETag"] != first.headers["ETag"]  # another request, another ETag
    put_file("g.tif", media.tiff16(media.gradient16(128, 8)))
    caches.storage.purge_prefix("abc-public/g.tif")
    caches.image_converter.purge_prefix("abc-public/g.tif")
    changed = await client.get(url)
    assert changed.status == 200 and changed.headers["ETag"] != first.headers["ETag"]


async def test_an_original_too_large_to_cache_is_not_converted(
    make_client, make_settings, put_file
) -> None:  # type: ignore[no-untyped-def]
    # Within the source limit, but a conversion needs the whole original in the cache.
    put_file("big.tif", encode_image(200, 200, ".tif"))
    client = await make_client(make_settings(CACHE_MAX_OBJECT_SIZE="4k"))
    response = await client.get("/image-converter/convert/abc-public/big.tif")
    assert response.status == 413 and "too large to convert" in await response.text()
    response = await client.get("/image-converter/convert/abc-public/big.tif?format=png")
    assert response.status == 413


async def test_conversions_are_cached_under_the_original(client, put_file) -> None:  # type: ignore[no-untyped-def]
    put_file("g.tif", media.tiff16(media.gradient16()))
    for fmt in ("png", "jpeg", "webp"):
        assert (
            await client.get(f"/image-converter/convert/abc-public/g.tif?format={fmt}")
        ).status == 200
    cache = client.server.app[SERVICES].caches.image_converter
    assert cache.purge_prefix("abc-public/g.tif") == 3
