"""A remote store that fails: gone, hanging, flaky, or refusing the proxy's credentials."""

from __future__ import annotations

import asyncio
import logging
import os
from urllib.parse import urlsplit

import pytest

from proxy.web.app import SERVICES
from tests.conftest import read_metric
from tests.server_process import free_port
from tests.storage.conftest import Forwarder, endpoint_at

KEY = "images/x.png"
BODY = os.urandom(50_000)


async def relay(store) -> Forwarder:  # type: ignore[no-untyped-def]
    return await Forwarder(urlsplit(store.endpoint).port or 80).start()


async def errors(client, store, kind: str) -> float:  # type: ignore[no-untyped-def]
    return await read_metric(
        client, "proxy_storage_errors_total", provider=store.provider, kind=kind
    )


async def test_stale_copy_served_when_store_is_gone(remote_store, make_client):
    store = remote_store
    store.put(KEY, BODY)
    store.put("images/never-read.png", BODY)
    forwarder = await relay(store)
    settings = store.settings(
        STORAGE_ENDPOINT=endpoint_at(store, forwarder.port), CACHE_STORAGE_EXPIRES="1s"
    )
    client = await make_client(settings)
    url = f"/{store.bucket}/{KEY}"
    first = await client.get(url)
    assert await first.read() == BODY
    assert first.headers["X-Cache-Status"] == "MISS"
    await forwarder.stop()
    await asyncio.sleep(1.2)  # past the idle time: the copy may only be served as STALE
    stale = await client.get(url)
    assert stale.status == 200
    assert stale.headers["X-Cache-Status"] == "STALE"
    assert await stale.read() == BODY
    gone = await client.get(f"/{store.bucket}/images/never-read.png")
    assert gone.status == 502
    assert (await gone.text()).strip() == "storage unavailable"


async def test_unreachable_store_is_502(remote_store, make_client):
    store = remote_store
    settings = store.settings(STORAGE_ENDPOINT=endpoint_at(store, free_port()), STORAGE_RETRIES="2")
    client = await make_client(settings)
    before = await errors(client, store, "unavailable")
    response = await client.get(f"/{store.bucket}/{KEY}")
    assert response.status == 502
    assert (await response.text()).strip() == "storage unavailable"
    # One try and two retries, then the answer: bounded, never a loop.
    assert await errors(client, store, "unavailable") == before + 3


async def test_hanging_store_is_504(remote_store, make_client):
    store = remote_store
    forwarder = await relay(store)
    forwarder.blackhole = True
    settings = store.settings(
        STORAGE_ENDPOINT=endpoint_at(store, forwarder.port), STORAGE_TIMEOUT="1s"
    )
    client = await make_client(settings)
    try:
        response = await client.get(f"/{store.bucket}/{KEY}")
        assert response.status == 504
        assert (await response.text()).strip() == "storage timed out"
    finally:
        await forwarder.stop()


@pytest.mark.parametrize("failure", ["fail_next", "reset_next"], ids=["503", "reset"])
async def test_transient_failure_is_retried(remote_store, make_client, failure):
    store = remote_store
    store.put(KEY, BODY)
    forwarder = await relay(store)
    settings = store.settings(
        STORAGE_ENDPOINT=endpoint_at(store, forwarder.port), STORAGE_RETRIES="2"
    )
    client = await make_client(settings)
    before = await errors(client, store, "unavailable")
    # aiohttp itself retries a request once when a reused connection drops; the second
    # reset is the base class's to retry.
    setattr(forwarder, failure, 1 if failure == "fail_next" else 2)
    try:
        response = await client.get(f"/{store.bucket}/{KEY}")
        assert response.status == 200
        assert await response.read() == BODY
        assert await errors(client, store, "unavailable") >= before + 1
        assert await errors(client, store, "unavailable") <= before + 2
    finally:
        await forwarder.stop()


async def test_azure_bad_key_is_502_and_never_logged(
    make_settings, data_path, request, make_client, caplog
):
    from tests.storage.conftest import make_store

    store = make_store("azure", request, make_settings, data_path)
    store.put(KEY, BODY)
    wrong = "d3Jvbmcta2V5LXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ="
    client = await make_client(store.settings(STORAGE_SECRET_KEY=wrong))
    with caplog.at_level(logging.INFO):
        response = await client.get(f"/{store.bucket}/{KEY}")
    assert response.status == 502
    text = await response.text()
    assert text.strip() == "storage refused the proxy's credentials"
    assert wrong not in text
    assert wrong not in caplog.text
    assert "provider=azure kind=access_denied" in caplog.text


async def test_a_store_dying_mid_answer_cuts_the_client_and_caches_nothing(
    remote_store, make_client
):
    import aiohttp

    store = remote_store
    big = os.urandom(3 << 20)
    store.put("videos/cut.bin", big)
    forwarder = await relay(store)
    forwarder.cut_after = 1 << 20
    settings = store.settings(
        STORAGE_ENDPOINT=endpoint_at(store, forwarder.port), STORAGE_RETRIES="0"
    )
    client = await make_client(settings)
    url = f"/{store.bucket}/videos/cut.bin"
    try:
        response = await client.get(url)
        if response.status == 200:
            # The headers were out before the store failed: the client sees a cut
            # transfer, never a short "complete" one.
            with pytest.raises(aiohttp.ClientPayloadError):
                await response.read()
        else:
            # Azure's SDK reads the first block before answering: the failure comes first.
            assert response.status == 502
        # The failed fill is abandoned on the server's next turns; a request joining it
        # would share its failure rather than start afresh.
        cache = client.server.app[SERVICES].caches.storage
        for _ in range(500):
            if not cache.filling(f"{store.bucket}/videos/cut.bin"):
                break
            await asyncio.sleep(0.01)
        forwarder.cut_after = None
        again = await client.get(url)
        assert again.headers["X-Cache-Status"] == "MISS"  # nothing half-written was kept
        assert await again.read() == big
    finally:
        await forwarder.stop()
