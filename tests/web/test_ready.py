"""A ready answer puts on the wire exactly what aiohttp's own Response would, in one write
when nothing stands in the way, and goes aiohttp's way when something does."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp import http_writer, web
from multidict import CIMultiDict

from proxy.web import ready
from proxy.web.ready import Head, ReadyAnswer, answer
from tests.fallbacks import without

BODY = bytes(range(256)) * 20
HEADERS = {
    "ETag": '"e1"',
    "Cache-Control": "max-age=60",
    "X-Cache-Status": "HIT",
    "Content-Type": "image/png",
    "Content-Disposition": "inline; filename=\"a.png\"; filename*=UTF-8''a.png",
}
DATE = re.compile(rb"\r\nDate: [^\r]+\r\n")


@pytest.fixture
async def server(aiohttp_server):  # type: ignore[no-untyped-def]
    """`/ready` answers with a ReadyAnswer, `/plain` with a web.Response of the same headers
    and body; `/read` reads the ready answer's headers and adds one before it goes out."""
    head = Head(HEADERS, len(BODY))
    answers: list[ReadyAnswer] = []

    async def ready(request: web.Request) -> web.StreamResponse:
        answers.append(ReadyAnswer(head, BODY))
        return answers[-1]

    async def plain(request: web.Request) -> web.StreamResponse:
        return web.Response(headers=HEADERS, body=BODY)

    async def read(request: web.Request) -> web.StreamResponse:
        answer = ReadyAnswer(head, BODY)
        answers.append(answer)
        assert answer.headers["X-Cache-Status"] == "HIT"
        answer.headers["X-Extra"] = "1"
        return answer

    app = web.Application()
    app.router.add_get("/ready", ready)
    app.router.add_get("/plain", plain)
    app.router.add_get("/read", read)
    server = await aiohttp_server(app)
    server.answers = answers
    return server


async def exchange(port: int, *requests: bytes) -> list[bytes]:
    """Raw answers to requests sent one after another on one connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answers = []
    try:
        for request in requests:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
            body = b"" if request.startswith(b"HEAD") else await reader.readexactly(length)
            answers.append(DATE.sub(b"\r\nDate: -\r\n", head) + body)
    finally:
        writer.close()
    return answers


def get(path: str, version: str = "1.1", extra: str = "") -> bytes:
    return f"GET {path} HTTP/{version}\r\nHost: x\r\n{extra}\r\n".encode()


async def test_a_plain_get_goes_out_whole_with_the_bytes_of_a_response(server):
    ready, plain, again = await exchange(server.port, get("/ready"), get("/plain"), get("/ready"))
    assert ready == plain == again  # and the connection stayed open for the next request
    assert ready.startswith(b"HTTP/1.1 200 OK\r\n") and ready.endswith(BODY)
    assert b"\r\nServer: " in ready and b"Connection" not in ready
    assert [answer.sent_whole for answer in server.answers] == [True, True]


@pytest.mark.parametrize(
    "request_bytes",
    [
        get("/{}", extra="Connection: close\r\n"),
        get("/{}", version="1.0"),
        get("/{}", version="1.0", extra="Connection: keep-alive\r\n"),
    ],
    ids=["connection-close", "http-1.0", "http-1.0-keep-alive"],
)
async def test_anything_but_a_plain_keep_alive_get_goes_aiohttps_way(server, request_bytes):
    template = request_bytes.decode()
    (ready,) = await exchange(server.port, template.format("ready").encode())
    (plain,) = await exchange(server.port, template.format("plain").encode())
    assert ready == plain
    assert [answer.sent_whole for answer in server.answers] == [False]


async def test_headers_read_or_changed_before_it_goes_out_are_sent(server):
    (read,) = await exchange(server.port, get("/read"))
    assert b"\r\nX-Extra: 1\r\n" in read and read.endswith(BODY)
    assert b"\r\nContent-Length: %d\r\n" % len(BODY) in read
    assert [answer.sent_whole for answer in server.answers] == [False]


def test_what_the_middleware_reads_costs_no_header_map():
    answer = ReadyAnswer(Head(HEADERS, len(BODY)), BODY)
    assert (answer.content_length, answer.cache_status) == (len(BODY), "HIT")
    assert not answer._materialised


INSIDES = [
    (http_writer, "_serialize_headers"),
    *((web.StreamResponse, name) for name in ready._RESPONSE_INSIDES),
]


@pytest.mark.parametrize(("owner", "name"), INSIDES, ids=[name for _, name in INSIDES])
async def test_without_an_internal_a_cached_answer_is_aiohttps_own_with_the_same_bytes(
    aiohttp_server, owner, name
):
    fast_head = Head(HEADERS, len(BODY))
    with without(ready.FAST, (owner, name)) as problem:
        assert name in problem
        public_head = Head(HEADERS, len(BODY))
        made: list[web.StreamResponse] = []

        async def fast(request: web.Request) -> web.StreamResponse:
            made.append(answer(fast_head, BODY))
            return made[-1]

        async def public(request: web.Request) -> web.StreamResponse:
            made.append(answer(public_head, BODY))
            return made[-1]

        app = web.Application()
        app.router.add_get("/fast", fast)
        app.router.add_get("/public", public)
        server = await aiohttp_server(app)
        on_fast, on_public, again = await exchange(
            server.port, get("/fast"), get("/public"), get("/public")
        )
        assert on_fast == on_public == again
        assert isinstance(made[0], ReadyAnswer) and made[0].sent_whole
        assert [type(one) for one in made[1:]] == [web.Response, web.Response]


def test_a_serialiser_that_makes_other_bytes_turns_the_fast_path_off(monkeypatch):
    def other(status_line: str, headers: CIMultiDict[str]) -> bytes:
        return (
            status_line.encode()
            + b"\n"
            + b"".join(f"{k}:{v}\n".encode() for k, v in headers.items())
        )

    try:
        monkeypatch.setattr(http_writer, "_serialize_headers", other)
        assert ready.FAST.probe() == "aiohttp.http_writer._serialize_headers makes other bytes"
        assert not ready.FAST.usable and Head(HEADERS, 1).before_date is None
        monkeypatch.undo()
    finally:
        ready.FAST.probe()
    assert ready.FAST.usable
