import asyncio
import os
from email.utils import formatdate

import pytest

from proxy.web.app import SERVICES
from tests.conftest import read_metric


@pytest.fixture
def body():
    return os.urandom(300_000)


@pytest.fixture
def stored(put_file, body):
    put_file("images/original/2/X/Re/photo.jpg", body)
    return "/abc-public/images/original/2/X/Re/photo.jpg"


async def test_get_gives_the_exact_bytes_and_headers(client, stored, body):
    response = await client.get(stored)
    assert response.status == 200
    assert await response.read() == body
    headers = response.headers
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Length"] == str(len(body))
    assert headers["Accept-Ranges"] == "bytes"
    assert headers["ETag"].startswith('"') and headers["ETag"].endswith('"')
    assert headers["Last-Modified"].endswith("GMT")
    assert headers["Cache-Control"] == "max-age=86400"
    assert headers["X-Cache-Status"] == "MISS"
    again = await client.get(stored)
    assert await again.read() == body
    assert again.headers["X-Cache-Status"] == "HIT"
    assert again.headers["ETag"] == headers["ETag"]
    assert again.headers["Last-Modified"] == headers["Last-Modified"]


async def test_content_type_comes_from_the_extension(client, put_file):
    put_file("a/doc.png", b"\x89PNG....")
    put_file("a/noext", b"data")
    assert (await client.get("/abc-public/a/doc.png")).headers["Content-Type"] == "image/png"
    assert (await client.get("/abc-public/a/noext")).headers[
        "Content-Type"
    ] == "application/octet-stream"


async def test_cache_control_is_configurable(make_client, make_settings, stored):
    client = await make_client(make_settings(CACHE_CONTROL="private, max-age=60"))
    assert (await client.get(stored)).headers["Cache-Control"] == "private, max-age=60"


@pytest.mark.parametrize("warm", [False, True], ids=["uncached", "cached"])
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, 299_999),
        ("bytes=-500", 299_500, 299_999),
        ("bytes=299990-400000", 299_990, 299_999),
    ],
)
async def test_single_ranges(client, stored, body, warm, header, start, end):
    if warm:
        await (await client.get(stored)).read()
    response = await client.get(stored, headers={"Range": header})
    assert response.status == 206
    assert await response.read() == body[start : end + 1]
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{len(body)}"
    assert response.headers["Content-Length"] == str(end - start + 1)
    assert response.headers["X-Cache-Status"] == ("HIT" if warm else "MISS")


@pytest.mark.parametrize("warm", [False, True], ids=["uncached", "cached"])
async def test_unsatisfiable_range_is_416(client, stored, body, warm):
    if warm:
        await (await client.get(stored)).read()
    response = await client.get(stored, headers={"Range": f"bytes={len(body)}-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{len(body)}"


async def test_malformed_or_multiple_ranges_get_the_whole_body(client, stored, body):
    for header in ("bytes=abc", "items=0-1", "bytes=0-1,5-9"):
        response = await client.get(stored, headers={"Range": header})
        assert response.status == 200
        assert await response.read() == body


async def test_a_range_of_an_uncached_object_caches_it_in_the_background(client, stored):
    await (await client.get(stored, headers={"Range": "bytes=0-9"})).read()
    for _ in range(50):
        response = await client.get(stored)
        await response.read()
        if response.headers["X-Cache-Status"] == "HIT":
            return
        await asyncio.sleep(0.02)
    pytest.fail("object never got cached")


async def test_if_range_with_a_stale_validator_sends_everything(client, stored, body):
    await (await client.get(stored)).read()
    response = await client.get(stored, headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    assert response.status == 200 and await response.read() == body
    etag = response.headers["ETag"]
    response = await client.get(stored, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert response.status == 206 and await response.read() == body[:10]


@pytest.mark.parametrize("warm", [False, True], ids=["uncached", "cached"])
async def test_conditional_requests_get_304(client, stored, warm):
    first = await client.get(stored)
    await first.read()
    if not warm:
        # The entry is cached now; purge it to test the miss path.
        client.server.app[SERVICES].caches.storage.purge_prefix("")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f'"x", W/{etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
    ):
        response = await client.get(stored, headers=headers)
        assert response.status == 304, headers
        assert response.headers["ETag"] == etag
        assert await response.read() == b""
    changed = await client.get(stored, headers={"If-None-Match": '"something-else"'})
    assert changed.status == 200
    old = formatdate(0, usegmt=True)
    assert (await client.get(stored, headers={"If-Modified-Since": old})).status == 200


async def test_head_gives_headers_without_body(client, stored, body):
    for expected in ("MISS", "HIT"):
        response = await client.head(stored)
        assert response.status == 200
        assert response.headers["Content-Length"] == str(len(body))
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.headers["X-Cache-Status"] == expected
        assert await response.read() == b""
        if expected == "MISS":
            await (await client.get(stored)).read()
    assert (await client.head("/abc-public/nope.jpg")).status == 404


async def test_fifty_concurrent_requests_make_one_storage_read(client, stored, body):
    before = await read_metric(client, "proxy_storage_reads_total", provider="http")

    async def fetch() -> bytes:
        response = await client.get(stored)
        return await response.read()

    bodies = await asyncio.gather(*(fetch() for _ in range(50)))
    assert all(b == body for b in bodies)
    after = await read_metric(client, "proxy_storage_reads_total", provider="http")
    assert after - before == 1


async def test_objects_over_the_maximum_stream_uncached(make_client, make_settings, put_file):
    big = os.urandom(3 << 20)
    put_file("videos/v.mp4", big)
    client = await make_client(make_settings(CACHE_MAX_OBJECT_SIZE="1m"))
    for _ in range(2):
        response = await client.get("/abc-public/videos/v.mp4")
        assert await response.read() == big
        assert response.headers["X-Cache-Status"] == "MISS"
        assert response.headers["Content-Type"] == "video/mp4"
    size = await read_metric(client, "proxy_cache_size_bytes", cache="storage")
    assert size == 0
    # A range of a large object is a ranged read at the store, not a download.
    before = await read_metric(client, "proxy_storage_read_bytes_total", provider="http")
    response = await client.get("/abc-public/videos/v.mp4", headers={"Range": "bytes=1000-1999"})
    assert response.status == 206 and await response.read() == big[1000:2000]
    after = await read_metric(client, "proxy_storage_read_bytes_total", provider="http")
    assert after - before == 1000


async def test_missing_objects_and_buckets_are_404(client, put_file):
    put_file("dir/file.txt", b"x")
    for path in (
        "/abc-public/nope.jpg",
        "/abc-public/dir",
        "/abc-public/dir/",
        "/unknown-bucket/x",
        "/",
        "/abc-public",
        "/abc-public/",
    ):
        response = await client.get(path)
        assert response.status == 404, path
        assert "Traceback" not in await response.text()


@pytest.mark.parametrize(
    "path",
    [
        "/abc-public/../abc-private/secret.txt",
        "/abc-public/%2e%2e/abc-private/secret.txt",
        "/abc-public/a/%2E%2E/%2E%2E/abc-private/secret.txt",
        "/abc-public/%252e%252e/abc-private/secret.txt",
        "/abc-public/..%2fabc-private%2fsecret.txt",
        "/abc-public/..%5cabc-private%5csecret.txt",
        "/abc-public/a%00.jpg",
        "/abc-public/a\\..\\..\\abc-private\\secret.txt",
        "/abc-public//etc/passwd",
        "/abc-public/%2fetc%2fpasswd",
        "/abc-public/%ff%fe",
    ],
)
async def test_traversal_never_reads_outside_the_bucket(make_client, make_settings, put_file, path):
    put_file("secret.txt", b"SECRET", bucket="abc-private")
    client = await make_client(make_settings(STORAGE_BUCKETS="abc-public"))
    response = await client.get(path)
    text = await response.text()
    assert response.status in (400, 404), (path, response.status)
    assert "SECRET" not in text
    assert "Traceback" not in text


async def test_other_methods_are_405(client, stored):
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = await client.request(method, stored)
        assert response.status == 405
        assert "GET" in response.headers["Allow"]
