"""Turning a cache result into an HTTP answer: validators, 304, ranges, and the body.

Every result (`proxy.cache.Body`) offers its bytes the same three ways: in memory, as a file
to send with sendfile (no copy through Python), or as chunks (a body still being written,
or streamed from the store). Memory does not grow with object size.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping
from typing import BinaryIO

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter

from proxy.cache import Body, Meta
from proxy.errors import ProxyError
from proxy.web.conditional import if_range_allows, is_not_modified, requested_range
from proxy.web.deadline import lift_deadline
from proxy.web.headers import Stamp, validator_headers
from proxy.web.ready import Head, answer
from proxy.web.sent import Sent, sending
from proxy.web.socket_progress import progress, socket_of

log = logging.getLogger("proxy.web")

# For small bodies one read beats sendfile's transport dance.
SMALL_BODY = 256 * 1024
FALLBACK_CHUNK = 256 * 1024
HEADERS_MEMO = 4096


class FileSliceResponse(web.StreamResponse):
    """Sends part of an already open file with sendfile(2)."""

    def __init__(
        self,
        fobj: BinaryIO,
        offset: int,
        count: int,
        status: int,
        headers: Mapping[str, str],
        on_body: Callable[[], None],
    ) -> None:
        super().__init__(status=status, headers=headers)
        self._on_body = on_body
        self._fobj = fobj
        self._offset = offset
        self._count = count
        self.content_length = count

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        writer = await super().prepare(request)
        if request.method == "HEAD" or self._count == 0 or writer is None:
            return writer
        self._on_body()
        record = sending(request, self)
        transport = request.transport
        if transport is None or transport.is_closing():
            record.left = True
            return writer
        sock = socket_of(transport)
        # Everything the connection was given so far (the head may still be in asyncio's
        # buffer): what the kernel takes beyond it is body.
        before = progress(sock)
        given = before.taken + transport.get_write_buffer_size() if before else None

        def body_taken() -> int:
            now = progress(sock)
            if now is None or given is None:
                return 0  # unknown here: the lower bound
            return max(0, min(self._count, now.taken - given))

        loop = asyncio.get_running_loop()
        try:
            sent = await loop.sendfile(transport, self._fobj, self._offset, self._count)
        except NotImplementedError:
            # TLS or an exotic transport: fall back to chunked copies.
            sent = await self._copy(writer, record)
        except ConnectionError as exc:
            record.left, record.body_bytes = True, body_taken()
            log.debug("client left after %d bytes: %s", record.body_bytes, exc)
            transport.abort()
            self.force_close()
            return writer
        except asyncio.CancelledError:
            record.left, record.body_bytes = True, body_taken()
            raise
        if sent < self._count:
            # The file ended early: a short body must not look complete.
            transport.abort()
            raise ConnectionResetError("file ended before its length")
        record.body_bytes = sent
        await super().write_eof()
        return writer

    async def _copy(self, writer: AbstractStreamWriter, record: Sent) -> int:
        offset, remaining = self._offset, self._count
        while remaining > 0:
            data = await asyncio.to_thread(
                os.pread, self._fobj.fileno(), min(FALLBACK_CHUNK, remaining), offset
            )
            await writer.write(data)
            offset += len(data)
            remaining -= len(data)
            record.body_bytes += len(data)
        return self._count


async def _stream(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    length: int,
    chunks: AsyncIterator[bytes] | None,
) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = length
    if chunks is None:
        await response.prepare(request)
        return response
    lift_deadline(request)
    # The first bytes before the headers: a source that fails before it has any (a full
    # cache disk, a store gone) is still an answer of its own (503, 502), not a cut body.
    iterator = aiter(chunks)
    first = await anext(iterator, b"")
    await response.prepare(request)
    record = sending(request, response)
    try:
        if await _write(request, response, record, first):
            async for chunk in iterator:
                if not await _write(request, response, record, chunk):
                    break
            else:
                record.body_bytes = length
                await response.write_eof()
    except (ProxyError, OSError) as exc:
        # The headers (with Content-Length) are out: the only honest signal left is to cut
        # the connection, so the client sees a broken transfer, never a short "complete" one.
        log.warning("aborting a response mid-body: %s: %s", type(exc).__name__, exc)
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("body source failed mid-stream") from exc
    except asyncio.CancelledError:
        record.left = True
        raise
    return response


async def _write(
    request: web.Request, response: web.StreamResponse, record: Sent, chunk: bytes
) -> bool:
    """Write a chunk; False when the client has gone (a debug line, not an error)."""
    try:
        await response.write(chunk)
    except ConnectionError as exc:
        record.left = True
        log.debug("client left after %d bytes: %s", record.body_bytes, exc)
        if request.transport is not None:
            request.transport.abort()
        response.force_close()
        return False
    # What asyncio still holds may never reach the client: counted once the kernel has it.
    handed = record.handed = record.handed + len(chunk)
    transport = request.transport
    buffered = transport.get_write_buffer_size() if transport is not None else 0
    record.body_bytes = max(record.body_bytes, handed - buffered)
    return True


def _span(request: web.BaseRequest, result: Body) -> tuple[int, int, int]:
    """(status, start, length) of the bytes to send."""
    size = result.meta.size
    fixed = result.fixed_span()
    if fixed is not None:
        start, length = fixed
    else:
        span = requested_range(request, size) if if_range_allows(request, result.meta) else None
        start, length = (0, size) if span is None else (span[0], span[1] - span[0] + 1)
    if start == 0 and length == size:
        return 200, 0, size
    return 206, start, length


class Delivery:
    """Answers for results. The headers of a body are built once per entry and status and
    reused: a hot entry's are the same every time, and building them was most of a hit's
    own work."""

    def __init__(self, cache_control: str, stamp: Stamp) -> None:
        self.cache_control = cache_control
        self.stamp = stamp
        self._headers = functools.lru_cache(maxsize=HEADERS_MEMO)(self._build_headers)
        self._heads = functools.lru_cache(maxsize=HEADERS_MEMO)(self._build_head)

    def _build_headers(
        self, content_type: str, etag: str, last_modified: float, status: str, body: bool
    ) -> dict[str, str]:
        headers = validator_headers(etag, last_modified, status, self.cache_control)
        if body:
            headers["Content-Type"] = content_type
            headers["Accept-Ranges"] = "bytes"
        if body:
            self.stamp.apply_body(headers)
        else:
            self.stamp.apply(headers)
        return headers

    def _build_head(
        self,
        content_type: str,
        etag: str,
        last_modified: float,
        status: str,
        extra: tuple[tuple[str, str], ...],
        length: int,
    ) -> Head:
        headers = dict(self._headers(content_type, etag, last_modified, status, True))
        headers.update(extra)
        return Head(headers, length)

    def headers(self, meta: Meta, status: str, *, body: bool) -> dict[str, str]:
        """A fresh copy: the caller adds to it."""
        return dict(self._headers(meta.content_type, meta.etag, meta.last_modified, status, body))

    async def respond(
        self,
        request: web.Request,
        result: Body,
        extra_headers: Mapping[str, str] | None = None,
    ) -> web.StreamResponse:
        """The answer for a cached (or being-cached) body, honouring validators and Range."""
        meta = result.meta
        if is_not_modified(request, meta):
            headers = self.headers(meta, result.status, body=False)
            if extra_headers:
                headers.update(extra_headers)
            # The client has the body; the cache should too, so the next request is a hit.
            result.finish_in_background()
            return web.Response(status=304, headers=headers)
        status, start, length = _span(request, result)
        if status == 200 and length and request.method == "GET":
            body = result.in_memory(0, length)
            if body is not None:  # the common hit: its head is made once per entry
                extra = tuple(extra_headers.items()) if extra_headers else ()
                head = self._heads(
                    meta.content_type, meta.etag, meta.last_modified, result.status, extra, length
                )
                return answer(head, body)
        headers = self.headers(meta, result.status, body=True)
        if extra_headers:
            headers.update(extra_headers)
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{start + length - 1}/{meta.size}"

        if request.method == "HEAD" or length == 0:
            return await _stream(request, status, headers, length, None)
        body = result.in_memory(start, length)
        if body is not None:
            return web.Response(status=status, headers=headers, body=body)
        fobj = result.sendable_file()
        if fobj is None:
            return await _stream(request, status, headers, length, result.chunks(start, length))
        if length <= SMALL_BODY:
            body = await asyncio.to_thread(os.pread, fobj.fileno(), length, start)
            result.sent(len(body))
            return web.Response(status=status, headers=headers, body=body)
        # Sent here, while the caller still holds the result's file open.
        response = FileSliceResponse(
            fobj, start, length, status, headers, on_body=lambda: lift_deadline(request)
        )
        await response.prepare(request)
        result.sent(length)
        return response
