import os

from proxy.cache import Entry, Meta
from proxy.web.app import SERVICES
from tests.conftest import read_metric


async def test_entry_or_meta_never_reads_the_body_of_what_it_cannot_cache(
    make_client, make_settings, put_file
):
    client = await make_client(make_settings(CACHE_MAX_OBJECT_SIZE="1m"))
    originals = client.server.app[SERVICES].originals
    put_file("videos/big.mp4", os.urandom(3 << 20))
    put_file("videos/small.mp4", os.urandom(1000))

    reads = await read_metric(client, "proxy_storage_reads_total", provider="http")
    read_bytes = await read_metric(client, "proxy_storage_read_bytes_total", provider="http")
    big = await originals.entry_or_meta("abc-public", "videos/big.mp4")
    assert isinstance(big, Meta) and big.size == 3 << 20
    # One GET, closed as soon as its size said "too large": not one byte of the body read.
    assert await read_metric(client, "proxy_storage_read_bytes_total", provider="http") == (
        read_bytes
    )
    again = await originals.entry_or_meta("abc-public", "videos/big.mp4")
    assert again == big  # known now: no second request
    reads += 1
    assert await read_metric(client, "proxy_storage_reads_total", provider="http") == reads

    small = await originals.entry_or_meta("abc-public", "videos/small.mp4")
    assert isinstance(small, Entry) and small.meta.size == 1000
    small.close()
    again = await originals.entry_or_meta("abc-public", "videos/small.mp4")
    assert isinstance(again, Entry) and again.status == "HIT"
    again.close()
    assert await read_metric(client, "proxy_storage_reads_total", provider="http") == reads + 1


async def test_a_body_lost_from_the_cache_is_read_again_not_an_error(
    make_client, make_settings, put_file, data_path
):
    body = os.urandom(400_000)
    put_file("lost.bin", body)
    client = await make_client(make_settings())
    assert await (await client.get("/abc-public/lost.bin")).read() == body
    for path in (data_path / "proxy_cache" / "storage" / "data").rglob("*"):
        if path.is_file():
            path.unlink()  # gone from under the index
    client.server.app[SERVICES].caches.storage.memory.clear()
    for expected in ("MISS", "HIT"):
        response = await client.get("/abc-public/lost.bin")
        assert response.status == 200 and await response.read() == body
        assert response.headers["X-Cache-Status"] == expected
