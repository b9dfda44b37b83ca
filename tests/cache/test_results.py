"""Results that are not entries: a passthrough of an uncacheable stream, and headers only."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from proxy.cache import MetaOnly, Passthrough
from proxy.cache.results import Fill
from proxy.storage.base import ObjectInfo, ObjectStream
from tests.cache.helpers import meta


def tracked_stream(body: bytes, start: int = 0) -> tuple[ObjectStream, dict[str, object]]:
    """A stream of `body` that records its closes and its `sent` reports."""
    seen: dict[str, object] = {"closed": 0, "sent": []}
    info = ObjectInfo("b", "k", start + len(body) + 100, None, "e1", 0.0)

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 1000):
            yield body[i : i + 1000]

    async def close() -> None:
        seen["closed"] = int(seen["closed"]) + 1  # type: ignore[call-overload]

    def on_sent(count: int) -> None:
        seen["sent"].append(count)  # type: ignore[attr-defined]

    stream = ObjectStream(info, chunks(), close, start=start, length=len(body), on_sent=on_sent)
    return stream, seen


async def test_a_passthrough_serves_the_span_the_store_chose_and_closes_its_stream():
    body = os.urandom(5000)
    stream, seen = tracked_stream(body, start=200)
    async with Passthrough(meta(stream.info.size), stream) as result:
        assert result.status == "MISS"
        assert result.fixed_span() == (200, 5000)
        assert result.in_memory(0, 10) is None
        assert result.sendable_file() is None  # not a local file
        # The span is fixed: whatever start and length are asked, the stream's bytes come.
        assert b"".join([c async for c in result.chunks(0, 1)]) == body
        result.sent(42)
        result.finish_in_background()  # nothing to finish: no fill behind it
    assert seen == {"closed": 1, "sent": [42]}


async def test_a_passthrough_of_a_local_file_offers_the_file(tmp_path):
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 100)
    with open(path, "rb") as fobj:
        info = ObjectInfo("b", "k", 100, None, "e1", 0.0)

        async def nothing() -> AsyncIterator[bytes]:
            return
            yield b""

        async def close() -> None:
            pass

        stream = ObjectStream(info, nothing(), close, file=fobj)
        assert Passthrough(meta(100), stream).sendable_file() is fobj


async def test_meta_only_offers_headers_and_no_bytes():
    result = MetaOnly(meta(1234))
    async with result:
        assert result.meta.size == 1234 and result.status == "MISS"
        assert result.fixed_span() is None  # validators and Range still apply
        assert result.in_memory(0, 1234) is None and result.sendable_file() is None
        assert [c async for c in result.chunks(0, 1234)] == []
        result.sent(5)
        result.finish_in_background()


def test_a_fill_holds_one_kind_of_body(tmp_path):
    assert Fill(meta(3), body=b"abc").stream is None
    made = tmp_path / "made"
    assert Fill(meta(0), file=made).file == made and Fill(meta(0), file=made).body is None
