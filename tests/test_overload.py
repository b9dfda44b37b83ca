"""Degrading politely: bounded queue (503), time limit (504), cancellation, bursts, purges."""

import asyncio

import aiohttp
import pytest

from proxy import admin
from proxy.web.services import SERVICES
from tests.conftest import encode_image, read_metric

SLOW = "/previews/q/rs:fit:{w}:0/bl:8/plain/abc-public/big.png"


@pytest.fixture
def big_png(put_file):
    # PNG has no shrink-on-load, and the blur makes every render take a while.
    put_file("big.png", encode_image(2400, 1800, ".png", compression=1))


async def test_renders_beyond_the_queue_get_503_with_retry_after(
    make_client, make_settings, big_png
):
    client = await make_client(make_settings(PREVIEWS_CONCURRENCY="1", PREVIEWS_QUEUE="1"))
    await (await client.get("/abc-public/big.png")).read()  # the source is cached

    async def fetch(width: int) -> tuple[int, str]:
        response = await client.get(SLOW.format(w=width))
        await response.read()
        return response.status, response.headers.get("Retry-After", "")

    results = await asyncio.gather(*(fetch(300 + i) for i in range(8)))
    statuses = [status for status, _ in results]
    assert statuses.count(200) >= 2  # one running and one queued always get through
    assert 503 in statuses
    assert all(retry == "1" for status, retry in results if status == 503)
    assert await read_metric(client, "proxy_renders_rejected_total") >= statuses.count(503)


async def test_a_request_past_its_time_limit_gets_504(make_client, make_settings, big_png):
    client = await make_client(make_settings(REQUEST_TIMEOUT="20ms"))
    response = await client.get(SLOW.format(w=500))
    assert response.status == 504
    assert "timed out" in await response.text()


async def test_a_client_that_hangs_up_cancels_work_nobody_else_waits_for(
    make_client, make_settings, big_png
):
    client = await make_client(make_settings())
    await (await client.get("/abc-public/big.png")).read()
    cache = client.server.app[SERVICES].caches["previews"]
    url = str(client.make_url(SLOW.format(w=640)))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(asyncio.TimeoutError):
            async with session.get(url, timeout=aiohttp.ClientTimeout(total=0.05)) as response:
                await response.read()
    await asyncio.sleep(1.5)  # long enough for the render to have finished, had it gone on
    assert cache.index.totals() == (0, 0)  # nothing was stored for a request nobody wanted
    assert not cache._flights


async def test_a_burst_does_not_block_health_or_cache_hits(
    make_client, make_settings, big_png, put_file
):
    client = await make_client(make_settings(PREVIEWS_CONCURRENCY="1", PREVIEWS_QUEUE="2"))
    put_file("hot.jpg", b"hot bytes")
    await (await client.get("/abc-public/hot.jpg")).read()
    await (await client.get("/abc-public/big.png")).read()

    async def status(url: str) -> int:
        response = await client.get(url)
        await response.read()
        return response.status

    burst = [asyncio.create_task(status(SLOW.format(w=200 + i))) for i in range(30)]  # 10x capacity
    await asyncio.sleep(0.05)
    assert await status("/health") == 200
    hit = await client.get("/abc-public/hot.jpg")
    assert hit.status == 200 and hit.headers["X-Cache-Status"] == "HIT"
    assert set(await asyncio.gather(*burst)) <= {200, 503}


async def test_purging_an_original_drops_its_previews_and_conversions(
    make_client, make_settings, put_file
):
    settings = make_settings()
    client = await make_client(settings)
    put_file("photos/a.jpg", encode_image(320, 240))
    put_file("photos/b.jpg", encode_image(320, 240))
    urls = [
        "/abc-public/photos/a.jpg",
        "/previews/q/rs:fit:100:0/plain/abc-public/photos/a.jpg",
        "/previews/q/rs:fit:100:0/plain/image-converter/convert/abc-public/photos/a.jpg@png",
        "/image-converter/convert/abc-public/photos/a.jpg?format=png",
        "/previews/q/rs:fit:100:0/plain/abc-public/photos/b.jpg",
    ]
    for url in urls:
        response = await client.get(url)
        assert response.status == 200, url
        await response.read()
    removed = admin.purge(settings, "storage", "abc-public/photos/a.jpg")
    assert removed["storage"] == 1
    assert removed["previews"] == 2
    assert removed["image_converter"] == 1
    await asyncio.sleep(1.1)  # workers recheck remembered entries every second
    for url in urls[:4]:
        response = await client.get(url)
        await response.read()
        assert response.headers["X-Cache-Status"] == "MISS", url
    other = await client.get(urls[4])
    assert other.headers["X-Cache-Status"] == "HIT"
