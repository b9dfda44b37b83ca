"""One behaviour contract, run unchanged through the real app on every storage provider."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.conftest import read_metric

BODY = os.urandom(200_000)
KEY = "images/a/b/photo.jpg"
PREVIEW = "/previews/q/ext:jpeg/resize:fill:100:0:0/q:70/plain/{bucket}/{key}"


async def reads(client, store) -> float:  # type: ignore[no-untyped-def]
    return await read_metric(client, "proxy_storage_reads_total", provider=store.provider)


async def read_bytes(client, store) -> float:  # type: ignore[no-untyped-def]
    return await read_metric(client, "proxy_storage_read_bytes_total", provider=store.provider)


async def test_bytes_and_headers(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    for expected_status in ("MISS", "HIT"):
        response = await client.get(url)
        assert response.status == 200
        assert await response.read() == BODY
        assert response.headers["X-Cache-Status"] == expected_status
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["Content-Length"] == str(len(BODY))
        etag = response.headers["ETag"]
        assert etag.startswith('"') and len(etag) > 2 and etag.count('"') == 2
        assert response.headers["Last-Modified"].endswith(" GMT")
    head = await client.head(url)
    assert head.status == 200
    assert head.headers["Content-Length"] == str(len(BODY))
    assert head.headers["ETag"] == etag


async def test_head_uncached(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    head = await client.head(f"/{store.bucket}/{KEY}")
    assert head.status == 200
    assert head.headers["Content-Length"] == str(len(BODY))
    assert head.headers["Content-Type"] == "image/jpeg"
    assert await head.read() == b""
    # The store's validators, whether they come from a head or from the cached read.
    get = await client.get(f"/{store.bucket}/{KEY}")
    assert await get.read() == BODY
    assert get.headers["ETag"] == head.headers["ETag"]
    assert get.headers["Last-Modified"] == head.headers["Last-Modified"]


RANGES = [
    ("bytes=10-19", 206, BODY[10:20], f"bytes 10-19/{len(BODY)}"),
    ("bytes=199990-", 206, BODY[199990:], f"bytes 199990-199999/{len(BODY)}"),
    ("bytes=-7", 206, BODY[-7:], f"bytes 199993-199999/{len(BODY)}"),
]


@pytest.mark.parametrize("cached", [False, True], ids=["at-store", "cached"])
async def test_ranges(store, make_client, cached):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    if cached:
        assert await (await client.get(url)).read() == BODY
    for header, status, body, content_range in RANGES:
        response = await client.get(url, headers={"Range": header})
        assert response.status == status, header
        assert await response.read() == body, header
        assert response.headers["Content-Range"] == content_range
    response = await client.get(url, headers={"Range": f"bytes={len(BODY)}-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(BODY)}"


async def test_conditional_requests(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    first = await client.get(url)
    await first.read()
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    since = await client.get(url, headers={"If-Modified-Since": modified})
    assert since.status == 304
    changed = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert changed.status == 200


async def test_errors(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    missing = await client.get(f"/{store.bucket}/images/none.jpg")
    assert missing.status == 404
    assert (await missing.text()).strip() == "not found"
    assert (await client.get(f"/not-configured/{KEY}")).status == 404
    assert (await client.get(f"/{store.ghost}/{KEY}")).status == 404
    assert (await client.head(f"/{store.ghost}/{KEY}")).status == 404
    for path in (f"/{store.bucket}/images/%2e%2e/%2e%2e/etc/passwd", f"/{store.bucket}/a/..%2fb"):
        response = await client.get(path)
        assert response.status in (400, 404), path
        assert "Traceback" not in await response.text()


async def test_second_get_reads_nothing(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    before = await reads(client, store)
    assert await (await client.get(url)).read() == BODY
    assert await reads(client, store) == before + 1
    second = await client.get(url)
    assert await second.read() == BODY
    assert second.headers["X-Cache-Status"] == "HIT"
    assert await reads(client, store) == before + 1


async def test_concurrent_misses_make_one_read(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    before = await reads(client, store)

    async def fetch() -> bytes:
        async with client.get(url) as response:
            assert response.status == 200
            return await response.read()

    bodies = await asyncio.gather(*(fetch() for _ in range(50)))
    assert all(body == BODY for body in bodies)
    assert await reads(client, store) == before + 1


async def test_range_of_large_object_reads_only_the_range(store, make_client):
    big = os.urandom(1_000_000)
    store.put("videos/big.mp4", big)
    client = await make_client(store.settings(CACHE_MAX_OBJECT_SIZE="64k"))
    url = f"/{store.bucket}/videos/big.mp4"
    before = await read_bytes(client, store)
    response = await client.get(url, headers={"Range": "bytes=500000-500999"})
    assert response.status == 206
    assert await response.read() == big[500000:501000]
    assert await read_bytes(client, store) == before + 1000


async def test_preview_of_cached_source_reads_nothing(store, make_client, jpeg_bytes):
    store.put(KEY, jpeg_bytes)
    client = await make_client(store.settings())
    assert await (await client.get(f"/{store.bucket}/{KEY}")).read() == jpeg_bytes
    before = await reads(client, store)
    response = await client.get(PREVIEW.format(bucket=store.bucket, key=KEY))
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "image/jpeg"
    assert (await response.read())[:2] == b"\xff\xd8"
    assert await reads(client, store) == before


async def test_a_cold_range_is_answered_from_one_read_of_the_whole_object(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    before = await reads(client, store)
    response = await client.get(url, headers={"Range": "bytes=0-99"})
    assert response.status == 206 and await response.read() == BODY[:100]
    plain = await client.get(url)
    assert await plain.read() == BODY
    assert plain.headers["X-Cache-Status"] in ("HIT", "MISS")  # MISS: still being finished
    again = await client.get(url)
    assert again.headers["X-Cache-Status"] == "HIT"
    assert await reads(client, store) == before + 1


async def test_ranged_and_plain_requests_together_make_one_read(store, make_client):
    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    before = await reads(client, store)

    async def fetch(headers: dict[str, str]) -> tuple[int, bytes]:
        async with client.get(url, headers=headers) as response:
            return response.status, await response.read()

    answers = await asyncio.gather(
        fetch({"Range": "bytes=0-99"}),
        fetch({}),
        fetch({"Range": "bytes=-7"}),
        fetch({"Range": "bytes=1000-1999"}),
        fetch({}),
    )
    assert answers == [
        (206, BODY[:100]),
        (200, BODY),
        (206, BODY[-7:]),
        (206, BODY[1000:2000]),
        (200, BODY),
    ]
    assert await reads(client, store) == before + 1


async def test_revalidating_an_evicted_original_fills_it_once(store, make_client):
    from proxy.web.app import SERVICES

    store.put(KEY, BODY)
    client = await make_client(store.settings())
    url = f"/{store.bucket}/{KEY}"
    first = await client.get(url)
    assert await first.read() == BODY
    cache = client.server.app[SERVICES].caches.storage
    cache.purge_prefix("")
    cache.memory.clear()
    before = await reads(client, store)
    for _ in range(3):
        response = await client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert response.status == 304
    for _ in range(200):  # the fill a 304 started finishes behind it
        if await cache.lookup(f"{store.bucket}/{KEY}") is not None:
            break
        await asyncio.sleep(0.01)
    hit = await client.get(url)
    assert hit.headers["X-Cache-Status"] == "HIT" and await hit.read() == BODY
    assert await reads(client, store) == before + 1
