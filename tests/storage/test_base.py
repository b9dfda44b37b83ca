"""The storage base class: bucket and key checks, streams, retries, timeouts, probes."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from proxy.errors import RangeNotSatisfiable
from proxy.metrics_export import render_metrics
from proxy.settings import StorageSettings
from proxy.storage import (
    AccessDenied,
    InvalidKey,
    ObjectInfo,
    ObjectMissing,
    ObjectStream,
    Storage,
    StorageError,
    StorageTimeout,
    Unavailable,
    create_storage,
)
from proxy.storage.base import describe_failure
from tests.conftest import metric_value
from tests.server_process import free_port

BODY = os.urandom(300_000)
KEY = "base/object.bin"


def storage_metric(name: str, **labels: str) -> float:
    return metric_value(render_metrics().decode(), name, **labels)


async def started(settings: StorageSettings) -> Storage:
    storage = create_storage(settings)
    await storage.start()
    return storage


async def read_all(stream: ObjectStream) -> bytes:
    async with stream:
        return b"".join([chunk async for chunk in stream])


# -- on every real provider ---------------------------------------------------------------


async def test_a_stream_carries_its_span_and_its_bytes_are_counted(store):
    store.put(KEY, BODY)
    storage = await started(store.settings().storage)
    try:
        provider = storage.provider
        reads = storage_metric("proxy_storage_reads_total", provider=provider)
        read_bytes = storage_metric("proxy_storage_read_bytes_total", provider=provider)
        stream = await storage.open(store.bucket, KEY, (1000, 1999))
        assert (stream.start, stream.length, stream.info.size) == (1000, 1000, len(BODY))
        assert await read_all(stream) == BODY[1000:2000]
        suffix = await storage.open(store.bucket, KEY, (-10, None))
        assert (suffix.start, suffix.length) == (len(BODY) - 10, 10)
        assert await read_all(suffix) == BODY[-10:]
        whole = await storage.open(store.bucket, KEY)
        assert (whole.start, whole.length) == (0, len(BODY))
        assert await read_all(whole) == BODY
        await whole.aclose()  # a second close is harmless
        assert storage_metric("proxy_storage_reads_total", provider=provider) == reads + 3
        counted = storage_metric("proxy_storage_read_bytes_total", provider=provider)
        assert counted == read_bytes + 1000 + 10 + len(BODY)
    finally:
        await storage.close()


async def test_head_and_stat_for_copy(store):
    store.put(KEY, BODY)
    storage = await started(store.settings().storage)
    try:
        info = await storage.head(store.bucket, KEY)
        assert (info.bucket, info.key, info.size) == (store.bucket, KEY, len(BODY))
        assert info.etag and not info.etag.startswith('"')
        assert await storage.stat_for_copy(store.bucket, KEY) == info
        assert await storage.stat_for_copy(store.bucket, "base/none.bin") is None
        with pytest.raises(ObjectMissing):
            await storage.head(store.bucket, "base/none.bin")
    finally:
        await storage.close()


async def test_put_and_list_for_migration(store, tmp_path):
    storage = await started(store.settings().storage)
    try:
        source = tmp_path / "upload.bin"
        source.write_bytes(BODY[:12345])
        await storage.put(store.bucket, "moved/one.bin", source, "application/octet-stream")
        listed = dict([item async for item in storage.list_keys(store.bucket)])
        assert listed["moved/one.bin"] == 12345
        assert await read_all(await storage.open(store.bucket, "moved/one.bin")) == BODY[:12345]
        with pytest.raises(ObjectMissing):
            storage.list_keys("not-configured")  # refused before any listing starts
        with pytest.raises(InvalidKey):
            await storage.put(store.bucket, "../escape.bin", source, None)
    finally:
        await storage.close()


async def test_unknown_buckets_and_bad_keys_are_refused_before_the_store_is_asked(remote_store):
    # The endpoint is a port nobody listens on: any call that reached it would be Unavailable.
    store = remote_store
    host = store.endpoint.split("//", 1)[1].split("/", 1)
    path = "/" + host[1] if len(host) > 1 else ""
    dead = f"http://127.0.0.1:{free_port()}{path}"
    storage = await started(store.settings(STORAGE_ENDPOINT=dead).storage)
    try:
        errors = storage_metric("proxy_storage_errors_total", provider=storage.provider)
        with pytest.raises(ObjectMissing) as missing:
            await storage.open("not-configured", KEY)
        assert missing.value.status == 404
        for key in ("../other/x", "a//b", ""):
            with pytest.raises(InvalidKey) as invalid:
                await storage.head(store.bucket, key)
            assert invalid.value.status == 400
        assert storage_metric("proxy_storage_errors_total", provider=storage.provider) == errors
        with pytest.raises(Unavailable):  # and the store really is unreachable
            await storage.head(store.bucket, KEY)
    finally:
        await storage.close()


# -- the shared machinery, with a backend whose answers the test scripts ----------------


class Scripted(Storage):
    """A backend that answers each call with the next scripted outcome: an exception to
    raise, "hang" (never answers), or "ok"."""

    provider = "scripted"

    def __init__(self, settings: StorageSettings, script: list[object]) -> None:
        super().__init__(settings)
        self.script = list(script)
        self.calls = 0

    async def _next(self) -> None:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else "ok"
        if outcome == "hang":
            await asyncio.Event().wait()
        if isinstance(outcome, BaseException):
            raise outcome

    async def _open(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None
    ) -> ObjectStream:
        await self._next()
        info = ObjectInfo(bucket, key, 11, None, "e", 0.0)
        stall = self.script.pop(0) == "stall" if self.script else False

        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            if stall:
                await asyncio.Event().wait()
            yield b"second"

        async def close() -> None:
            pass

        return ObjectStream(info, chunks(), close)

    async def _head(self, bucket: str, key: str) -> ObjectInfo:
        await self._next()
        return ObjectInfo(bucket, key, 11, None, "e", 0.0)

    async def _probe_bucket(self, bucket: str) -> None:
        await self._next()


def scripted(make_settings, script: list[object], **env: str) -> Scripted:  # type: ignore[no-untyped-def]
    settings = make_settings(STORAGE_BUCKETS="abc-public,abc-private", **env).storage
    return Scripted(settings, script)


def errors_of(kind: str) -> float:
    return storage_metric("proxy_storage_errors_total", provider="scripted", kind=kind)


async def test_transient_failures_are_retried_up_to_the_limit(make_settings):
    storage = scripted(make_settings, [Unavailable("a"), Unavailable("b")], STORAGE_RETRIES="2")
    before = errors_of("unavailable")
    assert (await storage.head("abc-public", "k")).size == 11
    assert storage.calls == 3 and errors_of("unavailable") == before + 2
    exhausted = scripted(make_settings, [Unavailable("x")] * 3, STORAGE_RETRIES="2")
    with pytest.raises(Unavailable):
        await exhausted.head("abc-public", "k")
    assert exhausted.calls == 3


@pytest.mark.parametrize(
    "error",
    [ObjectMissing("gone"), AccessDenied("no"), Unavailable("bad request", transient=False)],
    ids=["missing", "denied", "not-transient"],
)
async def test_lasting_failures_are_not_retried(make_settings, error):
    storage = scripted(make_settings, [error, "ok"], STORAGE_RETRIES="3")
    with pytest.raises(StorageError) as raised:
        await storage.head("abc-public", "k")
    assert raised.value is error and storage.calls == 1


async def test_a_range_outside_the_object_passes_straight_through(make_settings):
    storage = scripted(make_settings, [RangeNotSatisfiable(size=11)], STORAGE_RETRIES="3")
    before = errors_of("range")
    with pytest.raises(RangeNotSatisfiable) as raised:
        await storage.open("abc-public", "k", (50, None))
    assert raised.value.headers == {"Content-Range": "bytes */11"}
    assert storage.calls == 1 and errors_of("range") == before + 1


async def test_a_call_past_the_timeout_is_a_504_and_retried(make_settings):
    storage = scripted(
        make_settings, ["hang", "hang"], STORAGE_TIMEOUT="100ms", STORAGE_RETRIES="1"
    )
    before = errors_of("timeout")
    with pytest.raises(StorageTimeout) as raised:
        await storage.head("abc-public", "k")
    assert raised.value.status == 504 and "timed out after 0.1s" in str(raised.value)
    assert storage.calls == 2 and errors_of("timeout") == before + 2
    recovers = scripted(make_settings, ["hang"], STORAGE_TIMEOUT="100ms", STORAGE_RETRIES="1")
    assert (await recovers.head("abc-public", "k")).size == 11


async def test_a_read_that_stalls_mid_body_times_out(make_settings):
    storage = scripted(make_settings, ["ok", "stall"], STORAGE_TIMEOUT="100ms")
    stream = await storage.open("abc-public", "k")
    chunks = aiter(stream)
    assert await anext(chunks) == b"first"
    with pytest.raises(StorageTimeout, match="read stalled"):
        await anext(chunks)


async def test_only_the_stores_own_failures_are_logged_as_warnings(make_settings, caplog):
    with caplog.at_level(logging.WARNING, logger="proxy.storage"):
        with pytest.raises(ObjectMissing):
            await scripted(make_settings, [ObjectMissing("x")]).head("abc-public", "k")
        assert caplog.records == []
        with pytest.raises(AccessDenied):
            await scripted(make_settings, [AccessDenied("x")]).head("abc-public", "k")
    assert "provider=scripted kind=access_denied attempt=1" in caplog.text


async def test_a_probe_reports_one_line_per_bucket_in_trouble(make_settings):
    storage = scripted(make_settings, [AccessDenied("refused"), "hang"], STORAGE_TIMEOUT="100ms")
    problems = await storage.probe()  # buckets in sorted order: abc-private, abc-public
    assert problems == [
        "scripted: credentials refused (bucket abc-private: refused)",
        "scripted: endpoint unreachable (bucket abc-public: timed out)",
    ]
    assert await scripted(make_settings, []).probe() == []


def test_failures_are_described_for_operators():
    assert describe_failure(ObjectMissing("x")) == "bucket missing"
    assert describe_failure(AccessDenied("x")) == "credentials refused"
    assert describe_failure(Unavailable("x")) == "endpoint unreachable"
    assert describe_failure(StorageTimeout("x")) == "endpoint unreachable"
    assert describe_failure(InvalidKey("x")) == "storage error"


async def test_a_backend_that_cannot_write_or_list_says_so(make_settings, tmp_path: Path):
    storage = scripted(make_settings, [])
    with pytest.raises(NotImplementedError, match="scripted cannot be written to"):
        await storage.put("abc-public", "k", tmp_path, None)
    with pytest.raises(NotImplementedError, match="scripted cannot be listed"):
        storage.list_keys("abc-public")
