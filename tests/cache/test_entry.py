import os

from proxy.cache import Cache
from tests.cache.helpers import consume, fill_and_read, settings


async def test_a_pinned_body_survives_eviction_while_in_use(tmp_path):
    cache = Cache(settings(tmp_path / "c"))
    await cache.start()
    try:
        body = os.urandom(300_000)
        await fill_and_read(cache, "k", body)
        entry = await cache.lookup("k")
        async with entry.pinned() as path:
            cache.purge_prefix("b/")  # the entry's own name is gone...
            assert not entry.path.exists()
            assert path.read_bytes() == body  # ...the pinned one still reads
        assert not path.exists()  # and leaves nothing behind
        # Evicted before pinning: the bytes come out of the descriptor still open.
        await fill_and_read(cache, "k2", body)
        late = await cache.lookup("k2")
        cache.purge_prefix("b/")
        async with late.pinned() as path:
            assert path.read_bytes() == body
        late.close()
        entry.close()
        assert not list(cache.staging_dir.iterdir())
    finally:
        await cache.close()


async def test_a_range_of_a_file_body_reads_only_that_range(tmp_path):
    cache = Cache(settings(tmp_path / "c"))
    await cache.start()
    try:
        body = os.urandom(300_000)
        await fill_and_read(cache, "k", body)
        entry = await cache.lookup("k")
        assert b"".join([c async for c in entry.chunks(1000, 5000)]) == body[1000:6000]
        assert await consume(entry.with_content_type("image/png")) == body
    finally:
        await cache.close()
