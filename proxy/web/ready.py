"""A whole answer for a body in memory, its head serialised once per cached entry.

For every answer aiohttp builds a header map, fills in Content-Length, Date and Server,
decides on keep-alive and serialises it all: for a hot cached preview that is a quarter of
what a hit costs. The head of a cached entry is the same every time but for its Date, so
here it is serialised once, by aiohttp's own serialiser (the bytes are those aiohttp would
send), and each answer adds the Date and goes out in one write with its body.

Only a plain answer takes that path: HTTP/1.1, keep-alive, GET, no cookies, no compression,
no response signals, headers nobody has read or changed. Anything else goes through
aiohttp's own path with the same headers. This reaches into aiohttp's StreamResponse and its
header serialiser (pinned, see pyproject.toml); tests/web/test_ready.py holds the bytes on the
wire to those of a plain `web.Response`. `FAST` probes them once (proxy/internals.py): when
one is missing, `answer()` makes that plain `web.Response` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import hdrs, http_writer, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from multidict import CIMultiDict

from proxy.internals import Internal
from proxy.web.headers import CACHE_STATUS

STATUS_LINE = "HTTP/1.1 200 OK"


_RESPONSE_INSIDES = (
    "_headers",
    "_cookies",
    "_req",
    "_keep_alive",
    "_payload_writer",
    "_eof_sent",
    "_must_be_empty_body",
)


def _probe() -> str:
    serialize = getattr(http_writer, "_serialize_headers", None)
    if not callable(serialize):
        return "aiohttp.http_writer._serialize_headers is missing"
    if serialize(STATUS_LINE, CIMultiDict(A="b")) != b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n":
        return "aiohttp.http_writer._serialize_headers makes other bytes"
    # What prepare() sets on the response must be what aiohttp reads back from it.
    response: Any = web.StreamResponse()
    for name in _RESPONSE_INSIDES:
        if not hasattr(response, name):
            return f"aiohttp.web.StreamResponse.{name} is missing"
    if response._eof_sent is not False or response._payload_writer is not None:
        return "aiohttp.web.StreamResponse._eof_sent or _payload_writer starts otherwise"
    response._eof_sent = True
    if not response.prepared:
        return "aiohttp.web.StreamResponse.prepared does not read _eof_sent"
    response._keep_alive = True
    if response.keep_alive is not True:
        return "aiohttp.web.StreamResponse.keep_alive does not read _keep_alive"
    return ""


FAST = Internal(
    "ready_answer",
    _probe,
    "cached answers go out as aiohttp's own web.Response (the same bytes, in two writes)",
)


def answer(head: Head, body: bytes) -> web.StreamResponse:
    """The 200 answer of a cached entry: a ready one, or aiohttp's own when it cannot be."""
    if head.before_date is None:
        return web.Response(headers=head.headers, body=body)
    return ReadyAnswer(head, body)


class Head:
    """Status line and headers of a 200 answer, serialised up to its Date."""

    __slots__ = ("after_date", "before_date", "cache_status", "headers", "length")

    def __init__(self, headers: Mapping[str, str], length: int) -> None:
        self.headers = CIMultiDict(headers)
        self.headers[hdrs.CONTENT_LENGTH] = str(length)
        self.length = length
        self.cache_status = self.headers.get(CACHE_STATUS, "-")
        self.before_date: bytes | None = None  # None: answered as a plain web.Response
        if FAST.usable:
            # aiohttp adds Date, then Server, after the headers it was given.
            raw = http_writer._serialize_headers(STATUS_LINE, self.headers)
            self.before_date = raw[: -len(b"\r\n")] + b"Date: "
        self.after_date = f"\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode()


class ReadyAnswer(web.StreamResponse):
    """A 200 answer with a body in memory, sent in one write when nothing stands in the way."""

    def __init__(self, head: Head, body: bytes) -> None:
        super().__init__(status=200)
        self._head = head
        self._ready_body = body
        self._materialised = False
        self.sent_whole = False  # whether it went out in one write

    @property
    def cache_status(self) -> str:
        return self._head.cache_status

    @property
    def content_length(self) -> int | None:
        return self._head.length

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        raise RuntimeError("a ready answer's length is its body's")

    @property
    def headers(self) -> CIMultiDict[str]:
        # Made only for whoever asks: the answer may then change, so it goes aiohttp's way.
        if not self._materialised:
            self._materialised = True
            self._headers.extend(self._head.headers)
        return self._headers

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self.prepared:
            return await super().prepare(request)
        head = self._head
        if (
            head.before_date is None
            or self._materialised
            or self._cookies
            or request.version != HttpVersion11
            or request.method != hdrs.METH_GET
            or not request.keep_alive
            or not isinstance(request, web.Request)
            or request.app.on_response_prepare
        ):
            self.headers  # noqa: B018 - materialised for aiohttp's path
            return await super().prepare(request)
        self._req = request
        self._keep_alive = True
        writer = self._payload_writer = request.writer
        await writer.write_eof(
            b"".join((head.before_date, _date(), head.after_date, self._ready_body))
        )
        self._eof_sent = True
        self.sent_whole = True
        return writer

    async def write_eof(self, data: bytes = b"") -> None:
        if self._eof_sent:
            return
        if not self._must_be_empty_body:
            await super().write(self._ready_body)
        await super().write_eof()


_last_date: tuple[str, bytes] = ("", b"")


def _date() -> bytes:
    """aiohttp's Date (made once a second), as bytes once a second too."""
    global _last_date
    text = rfc822_formatted_time()
    if text is not _last_date[0]:
        _last_date = (text, text.encode("latin-1"))
    return _last_date[1]
