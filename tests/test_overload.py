"""Degrading politely: bounded queue (503), time limit (504), cancellation, bursts, purges.

A render that must still be running when the test looks is one whose source the render
process holds at a gate the test opens (a test-only source, see proxy/jobs/child.py), so "a
render still running" is a fact the test sets up, never a bet on how fast the machine is.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from proxy import admin
from proxy.web.app import SERVICES
from tests.conftest import encode_image, read_metric
from tests.jobs.helpers import SPIN, held

RENDER = "/previews/q/rs:fit:{w}:0/plain/abc-public/{name}"


async def until(condition: Callable[[], bool]) -> None:
    """Wait (up to 10 s) for something the server does on its own next loop turns."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


async def status_of(client: Any, url: str) -> tuple[int, str]:
    response = await client.get(url)
    await response.read()
    return response.status, response.headers.get("Retry-After", "")


async def test_renders_beyond_the_queue_get_503_with_retry_after(
    make_client, make_settings, put_file, tmp_path
):
    gate = tmp_path / "gate"
    put_file("held.png", held(gate))
    put_file("pic.png", encode_image(64, 48, ".png"))
    client = await make_client(make_settings(PREVIEWS_CONCURRENCY="1", PREVIEWS_QUEUE="1"))
    pool = client.server.app[SERVICES].pool
    rejected = await read_metric(client, "proxy_renders_rejected_total")
    first = asyncio.create_task(status_of(client, RENDER.format(w=30, name="held.png")))
    await until(lambda: pool.running == 1)  # the one slot is taken
    second = asyncio.create_task(status_of(client, RENDER.format(w=31, name="pic.png")))
    await until(lambda: pool.waiting == 1)  # the one place in the queue is taken
    rest = await asyncio.gather(
        *(status_of(client, RENDER.format(w=40 + i, name="pic.png")) for i in range(6))
    )
    assert rest == [(503, "1")] * 6
    gate.touch()
    assert [(await task)[0] for task in (first, second)] == [200, 200]
    assert await read_metric(client, "proxy_renders_rejected_total") == rejected + 6


async def test_a_request_past_its_time_limit_gets_504_and_stores_nothing(
    make_client, make_settings, put_file
):
    put_file("spin.png", SPIN)
    put_file("pic.png", encode_image(64, 48, ".png"))
    client = await make_client(make_settings(REQUEST_TIMEOUT="1s", PREVIEWS_CONCURRENCY="1"))
    response = await client.get(RENDER.format(w=50, name="spin.png"))
    assert response.status == 504 and "timed out" in await response.text()
    previews = client.server.app[SERVICES].caches.previews
    assert previews.index.totals().entries == 0
    # The spinning render was killed: the one slot serves the next request at once.
    assert (await status_of(client, RENDER.format(w=50, name="pic.png")))[0] == 200


async def test_a_client_that_hangs_up_cancels_work_nobody_else_waits_for(
    make_client, make_settings, put_file, tmp_path
):
    gate = tmp_path / "never-opened"
    put_file("held.png", held(gate))
    client = await make_client(make_settings(PREVIEWS_CONCURRENCY="1"))
    services = client.server.app[SERVICES]
    cancelled = await read_metric(
        client, "proxy_render_jobs_total", kind="preview", outcome="cancelled"
    )
    async with aiohttp.ClientSession() as session:
        url = str(client.make_url(RENDER.format(w=64, name="held.png")))
        request = asyncio.create_task(session.get(url))
        await until(lambda: services.pool.running == 1)
        request.cancel()  # the client hangs up while its render runs
        await asyncio.gather(request, return_exceptions=True)
    await until(lambda: services.pool.running == 0)  # killed: the slot is free
    assert (
        await read_metric(client, "proxy_render_jobs_total", kind="preview", outcome="cancelled")
        == cancelled + 1
    )
    assert services.caches.previews.index.totals().entries == 0
    assert not [p for p in Path(services.caches.previews.staging_dir).iterdir()]


async def test_a_burst_does_not_block_health_or_cache_hits(
    make_client, make_settings, put_file, tmp_path
):
    gate = tmp_path / "gate"
    put_file("held.png", held(gate))
    put_file("hot.jpg", b"hot bytes")
    client = await make_client(make_settings(PREVIEWS_CONCURRENCY="1", PREVIEWS_QUEUE="2"))
    pool = client.server.app[SERVICES].pool
    await (await client.get("/abc-public/hot.jpg")).read()
    burst = [
        asyncio.create_task(status_of(client, RENDER.format(w=200 + i, name="held.png")))
        for i in range(30)
    ]
    await until(lambda: pool.running == 1 and pool.waiting == 2)
    assert (await status_of(client, "/health"))[0] == 200
    hit = await client.get("/abc-public/hot.jpg")
    assert hit.status == 200 and hit.headers["X-Cache-Status"] == "HIT"
    gate.touch()
    statuses = [status for status, _ in await asyncio.gather(*burst)]
    assert statuses.count(200) == 3 and statuses.count(503) == 27


async def test_purging_an_original_drops_its_previews_and_conversions(
    make_client, make_settings, put_file
):
    settings = make_settings()
    client = await make_client(settings)
    caches = client.server.app[SERVICES].caches
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
    assert removed == {"storage": 1, "previews": 2, "image_converter": 1}
    for cache in caches:
        cache.memory.recheck = 0  # what every worker does within a second
    for url in urls[:4]:
        response = await client.get(url)
        await response.read()
        assert response.headers["X-Cache-Status"] == "MISS", url
    other = await client.get(urls[4])
    assert other.headers["X-Cache-Status"] == "HIT"
