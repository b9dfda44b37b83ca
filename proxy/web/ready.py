"""A whole answer for a body in memory, its head serialised once per cached entry.

For every answer aiohttp builds a header map, fills in Content-Length, Date and Server,
decides on keep-alive and serialises it all: for a hot cached preview that is a quarter of
what a hit costs. The head of a cached entry is the same every time but for its Date, so
here it is serialised once, by aiohttp's own serialiser (the bytes are those aiohttp would
send), and each answer adds the Date and goes out in one write with its body.

Only a plain answer takes that path: HTTP/1.1, keep-alive, GET, no cookies, no compression,
no response signals, headers nobody has read or changed. Anything else goes through
aiohttp's own path with the same headers. This reaches into aiohttp's StreamResponse (pinned,
see pyproject.toml); tests/web/test_ready.py holds the bytes on the wire to those of a
plain `web.Response`.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import hdrs, web
from aiohttp.abc import AbstractStreamWriter
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE, HttpVersion11
from aiohttp.http_writer import _serialize_headers
from multidict import CIMultiDict

from proxy.web.headers import CACHE_STATUS


class Head:
    """Status line and headers of a 200 answer, serialised up to its Date."""

    __slots__ = ("after_date", "before_date", "cache_status", "headers", "length")

    def __init__(self, headers: Mapping[str, str], length: int) -> None:
        self.headers = CIMultiDict(headers)
        self.headers[hdrs.CONTENT_LENGTH] = str(length)
        self.length = length
        self.cache_status = self.headers.get(CACHE_STATUS, "-")
        # aiohttp adds Date, then Server, after the headers it was given.
        raw = _serialize_headers("HTTP/1.1 200 OK", self.headers)
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
        if (
            self._materialised
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
        writer = self._payload_writer = request._payload_writer
        head = self._head
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
