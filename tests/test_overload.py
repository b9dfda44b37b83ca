"""Degrading politely: bounded queue (503), time limit (504), cancellation, bursts, purges.

Every render here waits at a gate the test opens, so "a render still running" is a fact the
test sets up, never a bet on how fast the machine is.
"""

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from proxy import admin
from proxy.web.app import SERVICES
from proxy.workpool import Token, WorkPool
from tests.conftest import encode_image, read_metric

RENDER = "/previews/q/rs:fit:{w}:0/plain/abc-public/pic.png"


@dataclass
class Gate:
    opened: threading.Event = field(default_factory=threading.Event)
    entered: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    finished: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    tokens: list[Token] = field(default_factory=list)

    async def wait_entered(self, count: int = 1) -> None:
        for _ in range(count):
            assert await asyncio.to_thread(self.entered.acquire, timeout=10), "no job started"

    async def wait_finished(self, count: int = 1) -> None:
        for _ in range(count):
            assert await asyncio.to_thread(self.finished.acquire, timeout=10), "a job hung"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """Hold every job of the work pool in its thread until the test opens the gate."""
    gate = Gate()
    run = WorkPool.run

    async def gated_run(self: WorkPool, job: Callable[[Token], Any], **kwargs: Any) -> Any:
        def held(token: Token) -> Any:
            gate.tokens.append(token)
            gate.entered.release()
            try:
                gate.opened.wait(10)
                return job(token)
            finally:
                gate.finished.release()

        return await run(self, held, **kwargs)

    monkeypatch.setattr(WorkPool, "run", gated_run)
    yield gate
    gate.opened.set()


@pytest.fixture
def pic(put_file: Callable[..., object]) -> None:
    put_file("pic.png", encode_image(640, 480, ".png"))


async def until(condition: Callable[[], bool]) -> None:
    """Wait (up to 10 s) for something the server does on its own next loop turns."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the server never got there")


async def cache_source(client: Any) -> None:
    response = await client.get("/abc-public/pic.png")
    assert response.status == 200
    await response.read()


async def test_renders_beyond_the_queue_get_503_with_retry_after(
    make_client, make_settings, pic, gate
):
    client = await make_client(make_settings(PREVIEWS_CONCURRENCY="1", PREVIEWS_QUEUE="1"))
    await cache_source(client)

    async def fetch(width: int) -> tuple[int, str]:
        response = await client.get(RENDER.format(w=width))
        await response.read()
        return response.status, response.headers.get("Retry-After", "")

    first = asyncio.create_task(fetch(300))
    await gate.wait_entered()  # one render holds the only slot
    second = asyncio.create_task(fetch(301))
    pool = client.server.app[SERVICES].pool
    await until(lambda: pool.waiting == 1)  # the second request has the one queue place
    rest = await asyncio.gather(*(fetch(302 + i) for i in range(6)))
    assert rest == [(503, "1")] * 6
    gate.opened.set()
    assert [(await task)[0] for task in (first, second)] == [200, 200]
    assert await read_metric(client, "proxy_renders_rejected_total") == 6


async def test_a_request_past_its_time_limit_gets_504(make_client, make_settings, pic, gate):
    client = await make_client(make_settings(REQUEST_TIMEOUT="200ms"))
    await cache_source(client)
    response = await client.get(RENDER.format(w=500))
    assert response.status == 504
    assert "timed out" in await response.text()
    assert gate.tokens[0].cancelled  # the job was told to stop
    gate.opened.set()
    await gate.wait_finished()
    assert client.server.app[SERVICES].caches.previews.index.totals().entries == 0


async def test_a_client_that_hangs_up_cancels_work_nobody_else_waits_for(
    make_client, make_settings, pic, gate
):
    client = await make_client(make_settings())
    await cache_source(client)
    cache = client.server.app[SERVICES].caches.previews
    async with aiohttp.ClientSession() as session:
        request = asyncio.create_task(session.get(str(client.make_url(RENDER.format(w=640)))))
        await gate.wait_entered()
        request.cancel()  # the client hangs up while its render runs
        with pytest.raises(asyncio.CancelledError):
            await request
    await until(lambda: gate.tokens[0].cancelled)  # the server noticed the closed connection
    gate.opened.set()
    await gate.wait_finished()
    await until(lambda: not cache._flights)  # a fill still going would commit before leaving
    assert cache.index.totals().entries == 0  # nothing was stored for a request nobody wanted


async def test_a_burst_does_not_block_health_or_cache_hits(
    make_client, make_settings, pic, gate, put_file
):
    client = await make_client(make_settings(PREVIEWS_CONCURRENCY="1", PREVIEWS_QUEUE="2"))
    put_file("hot.jpg", b"hot bytes")
    await (await client.get("/abc-public/hot.jpg")).read()
    await cache_source(client)

    async def status(url: str) -> int:
        response = await client.get(url)
        await response.read()
        return response.status

    burst = [asyncio.create_task(status(RENDER.format(w=200 + i))) for i in range(30)]  # 10x
    await gate.wait_entered()
    assert await status("/health") == 200
    hit = await client.get("/abc-public/hot.jpg")
    assert hit.status == 200 and hit.headers["X-Cache-Status"] == "HIT"
    gate.opened.set()
    statuses = await asyncio.gather(*burst)
    assert statuses.count(200) == 3 and statuses.count(503) == 27


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
