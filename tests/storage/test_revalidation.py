"""The cache follows the store, on every provider: an original replaced or deleted there is
replaced or gone here too, with its previews and conversions, after one check per interval;
an unchanged one costs one HEAD and no body."""

from __future__ import annotations

import json
import time

import pytest
import pyvips

from proxy.cache.versions import Versions
from proxy.web.app import SERVICES
from tests.conftest import encode_image, read_metric

INTERVAL = 60.0
KEY = "pics/a.jpg"
PREVIEW = "/previews/q/rs:fit:100:0/plain/{bucket}/{key}"
CONVERSION = "/image-converter/convert/{bucket}/{key}?format=png"
INFO = "/info/q/d:1/exif:0/iptc:0/xmp:0/plain/{bucket}/{key}"


class Clock:
    """The versions' clock: real time plus what a test moves it by."""

    def __init__(self) -> None:
        self.shift = 0.0

    def __call__(self) -> float:
        return time.time() + self.shift

    def past_interval(self) -> None:
        self.shift += INTERVAL + 1


async def open_client(store, make_client, **env: str):  # type: ignore[no-untyped-def]
    client = await make_client(store.settings(CACHE_STORAGE_REVALIDATE="1m", **env))
    versions: Versions = client.app[SERVICES].caches.versions
    clock = Clock()
    versions.clock = clock
    return client, versions, clock


def urls(store) -> dict[str, str]:  # type: ignore[no-untyped-def]
    values = {"bucket": store.bucket, "key": KEY}
    return {
        "original": f"/{store.bucket}/{KEY}",
        "preview": PREVIEW.format(**values),
        "conversion": CONVERSION.format(**values),
        "info": INFO.format(**values),
    }


def width_of(body: bytes) -> int:
    return int(pyvips.Image.new_from_buffer(body, "").width)


async def heads(client, store) -> float:  # type: ignore[no-untyped-def]
    return await read_metric(client, "proxy_storage_heads_total", provider=store.provider)


async def outcomes(client) -> dict[str, float]:  # type: ignore[no-untyped-def]
    names = ("unchanged", "changed", "deleted", "failed")
    return {n: await read_metric(client, "proxy_revalidations_total", outcome=n) for n in names}


def grown(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before[name] for name in after if after[name] != before[name]}


async def reads(client, store) -> float:  # type: ignore[no-untyped-def]
    return await read_metric(client, "proxy_storage_reads_total", provider=store.provider)


async def fetch(client, url: str, **headers: str) -> tuple[int, bytes, str, str]:  # type: ignore[no-untyped-def]
    response = await client.get(url, headers=headers)
    body = await response.read()
    return (
        response.status,
        body,
        response.headers.get("X-Cache-Status", "-"),
        response.headers.get("ETag", ""),
    )


async def fill_all(client, store) -> dict[str, tuple[int, bytes, str, str]]:  # type: ignore[no-untyped-def]
    found = {name: await fetch(client, url) for name, url in urls(store).items()}
    assert all(status == 200 for status, *_ in found.values()), found
    return found


async def test_a_replaced_original_is_replaced_with_its_previews_and_conversions(
    store, make_client
):
    old, new = encode_image(400, 300), encode_image(800, 600)
    store.put(KEY, old)
    client, versions, clock = await open_client(store, make_client)
    before = await fill_all(client, store)
    counted = await outcomes(client)
    store.put(KEY, new)
    # Within the interval the cache answers alone.
    assert (await fetch(client, urls(store)["original"]))[1:3] == (old, "HIT")

    clock.past_interval()
    status, body, cache, _ = await fetch(client, urls(store)["original"])
    assert (status, body, cache) == (200, old, "UPDATING")  # at once, while the store is asked
    await versions.settled()

    original = await fetch(client, urls(store)["original"])
    assert original[1:3] == (new, "MISS")
    preview = await fetch(client, urls(store)["preview"], **{"If-None-Match": before["preview"][3]})
    assert (preview[0], preview[2], width_of(preview[1])) == (200, "MISS", 100)
    assert preview[3] != before["preview"][3]  # the preview's ETag follows its source's
    conversion = await fetch(client, urls(store)["conversion"])
    assert (conversion[2], width_of(conversion[1])) == ("MISS", 800)
    info = await fetch(client, urls(store)["info"])
    assert (info[2], json.loads(info[1])["width"]) == ("MISS", 800)
    assert grown(counted, await outcomes(client)) == {"changed": 1}


async def test_a_deleted_original_is_gone_with_its_previews_and_conversions(store, make_client):
    store.put(KEY, encode_image(400, 300))
    client, versions, clock = await open_client(store, make_client)
    await fill_all(client, store)
    counted = await outcomes(client)
    store.delete(KEY)
    clock.past_interval()
    # A preview's request is a request for its original: it starts the check too.
    status, _, cache, _ = await fetch(client, urls(store)["preview"])
    assert (status, cache) == (200, "UPDATING")
    await versions.settled()
    for name, url in urls(store).items():
        assert (await fetch(client, url))[0] == 404, name
    assert grown(counted, await outcomes(client)) == {"deleted": 1}


async def test_an_unchanged_original_costs_one_head_and_no_body(store, make_client):
    store.put(KEY, encode_image(400, 300))
    client, versions, clock = await open_client(store, make_client)
    first = await fill_all(client, store)
    heads_before, reads_before = await heads(client, store), await reads(client, store)
    counted = await outcomes(client)
    clock.past_interval()
    for _ in range(3):  # however many ask while it runs: one check
        for url in urls(store).values():
            assert (await fetch(client, url))[0] == 200
    await versions.settled()
    assert await heads(client, store) == heads_before + 1
    assert await reads(client, store) == reads_before
    again = await fill_all(client, store)
    assert {name: found[2] for name, found in again.items()} == dict.fromkeys(again, "HIT")
    assert {name: found[1] for name, found in again.items()} == {
        name: found[1] for name, found in first.items()
    }
    assert grown(counted, await outcomes(client)) == {"unchanged": 1}


async def test_strict_mode_waits_for_the_check(store, make_client):
    old, new = encode_image(400, 300), encode_image(800, 600)
    store.put(KEY, old)
    client, _, clock = await open_client(store, make_client, CACHE_STORAGE_REVALIDATE_WAIT="on")
    await fill_all(client, store)
    store.put(KEY, new)
    clock.past_interval()
    status, body, cache, _ = await fetch(client, urls(store)["original"])
    assert (status, body, cache) == (200, new, "MISS")  # never the old bytes after the interval


@pytest.mark.parametrize("provider", ["http"])
async def test_off_never_asks_the_store(provider, make_client, make_settings, data_path):
    (data_path / "storage" / "abc-public" / "a.jpg").write_bytes(encode_image(40, 30))
    client = await make_client(make_settings(CACHE_STORAGE_REVALIDATE="off"))
    versions: Versions = client.app[SERVICES].caches.versions
    clock = Clock()
    versions.clock = clock
    assert (await fetch(client, "/abc-public/a.jpg"))[2] == "MISS"
    heads_before = await read_metric(client, "proxy_storage_heads_total", provider="http")
    clock.shift += 10 * 365 * 86400
    assert (await fetch(client, "/abc-public/a.jpg"))[2] == "HIT"
    assert await read_metric(client, "proxy_storage_heads_total", provider="http") == heads_before
