"""Turning a cache result into an HTTP answer: validators, 304, ranges, and the body.

Bodies on disk go out with sendfile (no copy through Python), bodies being written are
tailed from their staging file, and uncacheable ones are streamed chunk by chunk, so memory
does not grow with object size.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from aiohttp import web

from proxy.cache import Entry, Meta, Passthrough, Result, Tail
from proxy.storage import StorageError
from proxy.web.conditional import (
    Unsatisfiable,
    http_date,
    if_range_allows,
    is_not_modified,
    quote_etag,
    requested_range,
)
from proxy.web.deadline import lift_deadline

log = logging.getLogger("proxy.web")

SMALL_BODY = 256 * 1024


@dataclass
class MetaOnly:
    """What a HEAD of an uncached object answers with: headers, no body."""

    meta: Meta
    status: str = "MISS"


def validator_headers(meta: Meta, status: str, cache_control: str) -> dict[str, str]:
    return {
        "ETag": quote_etag(meta.etag),
        "Last-Modified": http_date(meta.last_modified),
        "Cache-Control": cache_control,
        "X-Cache-Status": status,
    }


class FileSliceResponse(web.StreamResponse):
    """Sends part of an already open file with sendfile(2)."""

    def __init__(
        self, fobj: BinaryIO, offset: int, count: int, status: int, headers: Mapping[str, str]
    ) -> None:
        super().__init__(status=status, headers=headers)
        self._fobj = fobj
        self._offset = offset
        self._count = count
        self.content_length = count

    async def prepare(self, request: web.BaseRequest):  # type: ignore[no-untyped-def]
        writer = await super().prepare(request)
        if request.method == "HEAD" or self._count == 0 or writer is None:
            return writer
        lift_deadline(request)
        transport = request.transport
        if transport is None:
            raise ConnectionResetError("client went away")
        loop = asyncio.get_running_loop()
        try:
            sent = await loop.sendfile(transport, self._fobj, self._offset, self._count)
            if sent < self._count:
                # The file ended early: a short body must not look complete.
                transport.abort()
                raise ConnectionResetError("file ended before its length")
        except NotImplementedError:
            # TLS or an exotic transport: fall back to chunked copies.
            offset, remaining = self._offset, self._count
            while remaining > 0:
                data = await asyncio.to_thread(
                    _pread, self._fobj, min(256 * 1024, remaining), offset
                )
                await writer.write(data)
                offset += len(data)
                remaining -= len(data)
        await super().write_eof()
        return writer


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield b""


def _pread(fobj: BinaryIO, size: int, offset: int) -> bytes:
    return os.pread(fobj.fileno(), size, offset)


async def _stream(
    request: web.BaseRequest,
    status: int,
    headers: dict[str, str],
    length: int,
    chunks: AsyncIterator[bytes],
) -> web.StreamResponse:
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = length
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    lift_deadline(request)
    try:
        async for chunk in chunks:
            await response.write(chunk)
    except (StorageError, OSError) as exc:
        # The headers (with Content-Length) are out: the only honest signal left is to cut
        # the connection, so the client sees a broken transfer, never a short "complete" one.
        log.warning("aborting a response mid-body: %s: %s", type(exc).__name__, exc)
        if request.transport is not None:
            request.transport.abort()
        raise ConnectionResetError("body source failed mid-stream") from exc
    await response.write_eof()
    return response


async def respond(
    request: web.BaseRequest,
    result: Result | MetaOnly,
    *,
    cache_control: str,
    extra_headers: Mapping[str, str] | None = None,
) -> web.StreamResponse:
    """The answer for a cached (or being-cached) body, honouring validators and Range."""
    meta = result.meta
    headers = validator_headers(meta, result.status, cache_control)
    if extra_headers:
        headers.update(extra_headers)
    if is_not_modified(request, meta):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = meta.content_type
    headers["Accept-Ranges"] = "bytes"

    if isinstance(result, Passthrough):
        stream = result.stream
        status = 200
        if stream.start != 0 or stream.length != meta.size:
            status = 206
            end = stream.start + stream.length - 1
            headers["Content-Range"] = f"bytes {stream.start}-{end}/{meta.size}"
        if stream.file is not None and request.method == "GET" and stream.length > 0:
            # A local file too large to cache: straight from its descriptor with sendfile.
            response = FileSliceResponse(stream.file, stream.start, stream.length, status, headers)
            await response.prepare(request)
            stream.sent(stream.length)
            return response
        return await _stream(request, status, headers, stream.length, aiter(stream))

    size = meta.size
    try:
        span = requested_range(request, size) if if_range_allows(request, meta) else None
    except Unsatisfiable:
        return web.Response(
            status=416,
            text="range not satisfiable\n",
            headers={**headers, "Content-Range": f"bytes */{size}"},
        )
    status, start, length = 200, 0, size
    if span is not None:
        status, start, length = 206, span[0], span[1] - span[0] + 1
        headers["Content-Range"] = f"bytes {span[0]}-{span[1]}/{size}"

    if request.method == "HEAD" or length == 0:
        return await _stream(request, status, headers, length, _nothing())
    if isinstance(result, Tail):
        return await _stream(request, status, headers, length, result.chunks(start, length))
    assert isinstance(result, Entry)
    if result.body is not None:
        body = result.body if length == size else result.body[start : start + length]
        return web.Response(status=status, headers=headers, body=body)
    assert result.file is not None
    if length <= SMALL_BODY:
        # For small bodies one read beats sendfile's transport dance.
        body = os.pread(result.file.fileno(), length, start)
        return web.Response(status=status, headers=headers, body=body)
    # Sent here, while the caller still holds the entry's file open.
    file_response = FileSliceResponse(result.file, start, length, status, headers)
    await file_response.prepare(request)
    return file_response
