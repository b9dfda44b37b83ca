"""Answers for every kind of result: their headers, their bytes, and a body that fails."""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator
from email.utils import formatdate

import aiohttp
import pytest
from aiohttp import web

from proxy import metrics
from proxy.cache import Cache, Entry, Meta, MetaOnly, Passthrough, Tail
from proxy.storage.base import ObjectInfo, ObjectStream
from proxy.web.deadline import DEADLINES, Deadlines
from proxy.web.delivery import SMALL_BODY, Delivery
from proxy.web.headers import SANDBOX, Stamp
from proxy.web.middleware import Middleware
from proxy.web.ready import ReadyAnswer
from proxy.web.tally import RequestTally
from tests.cache.helpers import settings, stream_maker, stream_of

MODIFIED = 1_700_000_000.0
ETAG = "e1"


def meta(size: int, content_type: str = "image/png") -> Meta:
    return Meta(content_type, ETAG, MODIFIED, size)


@pytest.fixture
async def serve(aiohttp_client, tmp_path):  # type: ignore[no-untyped-def]
    """A client of an app with one route that delivers whatever result the test makes."""
    cache = Cache(settings(tmp_path / "c"))
    await cache.start()
    made: dict[str, object] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        result = await made["make"]()  # type: ignore[operator]
        async with result:
            made["answer"] = await delivery.respond(request, result, made.get("extra"))  # type: ignore[arg-type]
            return made["answer"]  # type: ignore[return-value]

    delivery = Delivery("max-age=60", Stamp("node-7"))
    tally = RequestTally(metrics.HTTP_REQUESTS, metrics.HTTP_DURATION, metrics.HTTP_IN_FLIGHT)
    deadlines = Deadlines(30)
    app = web.Application()
    app[DEADLINES] = deadlines
    middleware = Middleware(deadlines, tally, None, Stamp("node-7"))
    app.router.add_route("*", "/r", middleware.wrap("test", handler))
    client = await aiohttp_client(app)

    async def ask(make, method: str = "GET", extra=None, **headers: str):  # type: ignore[no-untyped-def]
        made["make"], made["extra"] = make, extra
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        return await client.request(method, "/r", headers=named)

    ask.cache = cache  # type: ignore[attr-defined]
    ask.last = lambda: made["answer"]  # type: ignore[attr-defined]
    yield ask
    await deadlines.close()
    await cache.close()


def entry_of(body: bytes, content_type: str = "image/png", status: str = "HIT"):  # type: ignore[no-untyped-def]
    async def make() -> Entry:
        return Entry("k", meta(len(body), content_type), status, body=body)

    return make


def file_entry_of(path, body: bytes):  # type: ignore[no-untyped-def]
    path.write_bytes(body)

    async def make() -> Entry:
        return Entry("k", meta(len(body)), "HIT", file=open(path, "rb"), path=path)

    return make


def validators_are_there(headers, status: str) -> None:  # type: ignore[no-untyped-def]
    assert headers["ETag"] == f'"{ETAG}"'
    assert headers["Last-Modified"] == formatdate(MODIFIED, usegmt=True)
    assert headers["Cache-Control"] == "max-age=60"
    assert headers["X-Cache-Status"] == status
    assert headers["X-Served-By"] == "node-7"
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_an_entry_in_memory(serve):
    body = os.urandom(5000)
    response = await serve(entry_of(body), extra={"Vary": "Accept"})
    assert response.status == 200 and await response.read() == body
    validators_are_there(response.headers, "HIT")
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Length"] == "5000"
    assert response.headers["Vary"] == "Accept"
    assert "Content-Range" not in response.headers
    assert "Content-Disposition" not in response.headers  # an image: inline
    ranged = await serve(entry_of(body), Range="bytes=100-199")
    assert ranged.status == 206 and await ranged.read() == body[100:200]
    assert ranged.headers["Content-Range"] == "bytes 100-199/5000"
    assert ranged.headers["Content-Length"] == "100"


async def test_a_whole_body_in_memory_goes_out_whole_its_head_made_once(serve):
    body = os.urandom(3000)
    first = await serve(entry_of(body), extra={"Vary": "Accept"})
    assert await first.read() == body and first.headers["Vary"] == "Accept"
    answer = serve.last()
    assert isinstance(answer, ReadyAnswer) and answer.sent_whole
    again = await serve(entry_of(body), extra={"Vary": "Accept"})
    assert await again.read() == body and serve.last()._head is answer._head
    plain = await serve(entry_of(body))
    assert await plain.read() == body and "Vary" not in plain.headers
    assert serve.last()._head is not answer._head
    for ask in (serve(entry_of(body), Range="bytes=0-9"), serve(entry_of(body), "HEAD")):
        response = await ask
        await response.read()
        assert not isinstance(serve.last(), ReadyAnswer)


@pytest.mark.parametrize("size", [SMALL_BODY, SMALL_BODY + 1, 3 << 20], ids=["read", "sent", "big"])
async def test_an_entry_on_disk_small_read_large_sent_with_sendfile(serve, tmp_path, size):
    body = os.urandom(size)
    response = await serve(file_entry_of(tmp_path / "body", body))
    assert response.status == 200 and await response.read() == body
    validators_are_there(response.headers, "HIT")
    assert response.headers["Content-Length"] == str(size)
    ranged = await serve(file_entry_of(tmp_path / "body", body), Range=f"bytes={size - 1000}-")
    assert ranged.status == 206 and await ranged.read() == body[-1000:]
    assert ranged.headers["Content-Range"] == f"bytes {size - 1000}-{size - 1}/{size}"


async def test_a_tail_of_a_body_still_being_written(serve):
    body = os.urandom(300_000)
    cache = serve.cache

    async def make() -> Tail:
        result = await cache.get("k", "b/k", stream_maker(body))
        assert isinstance(result, Tail)
        return result

    response = await serve(make)
    assert response.status == 200 and await response.read() == body
    assert response.headers["X-Cache-Status"] == "MISS"
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Length"] == str(len(body))
    assert response.headers["ETag"] == '"e1"'


async def test_a_passthrough_is_the_span_the_store_sent(serve):
    body = os.urandom(10_000)

    def passthrough(start: int, length: int):  # type: ignore[no-untyped-def]
        async def make() -> Passthrough:
            info = ObjectInfo("b", "k", len(body), None, ETAG, MODIFIED)

            async def chunks() -> AsyncIterator[bytes]:
                yield body[start : start + length]

            async def close() -> None:
                pass

            stream = ObjectStream(info, chunks(), close, start=start, length=length)
            return Passthrough(meta(len(body), "video/mp4"), stream)

        return make

    whole = await serve(passthrough(0, len(body)))
    assert whole.status == 200 and await whole.read() == body
    assert whole.headers["X-Cache-Status"] == "MISS" and "Content-Range" not in whole.headers
    part = await serve(passthrough(2000, 500), Range="bytes=2000-2499")
    assert part.status == 206 and await part.read() == body[2000:2500]
    assert part.headers["Content-Range"] == f"bytes 2000-2499/{len(body)}"
    assert part.headers["Content-Type"] == "video/mp4"


async def test_headers_only_for_a_head(serve):
    async def make() -> MetaOnly:
        return MetaOnly(meta(12345, "image/svg+xml"))

    response = await serve(make, "HEAD")
    assert response.status == 200 and await response.read() == b""
    validators_are_there(response.headers, "MISS")
    assert response.headers["Content-Length"] == "12345"
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == SANDBOX
    ranged = await serve(make, "HEAD", Range="bytes=0-99")
    assert ranged.status == 206 and ranged.headers["Content-Range"] == "bytes 0-99/12345"
    assert ranged.headers["Content-Length"] == "100"


async def test_a_304_carries_validators_but_no_body_headers(serve):
    response = await serve(entry_of(b"abc"), extra={"Vary": "Accept"}, If_None_Match='"e1"')
    assert response.status == 304 and await response.read() == b""
    validators_are_there(response.headers, "HIT")
    assert response.headers["Vary"] == "Accept"
    for name in ("Content-Type", "Accept-Ranges", "Content-Range"):
        assert name not in response.headers


async def test_an_empty_body(serve):
    response = await serve(entry_of(b""))
    assert response.status == 200 and await response.read() == b""
    assert response.headers["Content-Length"] == "0"


def test_memoised_headers_are_a_fresh_copy_each_time():
    delivery = Delivery("max-age=60", Stamp("n"))
    first = delivery.headers(meta(1), "HIT", body=True)
    first["Content-Range"] = "bytes 0-0/1"
    second = delivery.headers(meta(1), "HIT", body=True)
    assert "Content-Range" not in second and second["Content-Type"] == "image/png"
    assert "Content-Type" not in delivery.headers(meta(1), "HIT", body=False)


async def test_a_body_failing_midway_cuts_the_connection(serve):
    async def make() -> Passthrough:
        stream = stream_of(os.urandom(200_000), fail_at=100_000)  # the store dies half way
        return Passthrough(meta(200_000), stream)

    response = await serve(make)
    assert response.status == 200  # the headers were out before the failure
    with pytest.raises(aiohttp.ClientPayloadError):
        await response.read()


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), 503, "cache storage unavailable"),
        (None, 502, "storage unavailable"),
    ],
    ids=["disk-full", "store-gone"],
)
async def test_a_body_failing_before_its_first_byte_is_an_answer_of_its_own(
    serve, error, status, reason
):
    async def make() -> Passthrough:
        stream = stream_of(b"x" * 10_000, fail_at=0)  # an Unavailable before any byte
        if error is None:
            return Passthrough(meta(10_000), stream)

        async def chunks() -> AsyncIterator[bytes]:
            raise error
            yield b""

        return Passthrough(meta(10_000), ObjectStream(stream.info, chunks(), stream.aclose))

    response = await serve(make)
    assert response.status == status
    assert (await response.text()).strip() == reason
