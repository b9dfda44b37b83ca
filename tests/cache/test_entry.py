import os

from proxy.cache import Cache
from tests.cache.test_cache import consume, settings, stream_maker


async def test_a_pinned_body_survives_eviction_while_in_use(tmp_path):
    cache = Cache(settings(tmp_path / "c"))
    await cache.start()
    try:
        body = os.urandom(300_000)
        await consume(await cache.get("k", "b/k", stream_maker(body)))
        entry = cache.lookup("k")
        async with entry.pinned() as path:
            cache.purge_prefix("b/")  # the entry's own name is gone...
            assert not entry.path.exists()
            assert path.read_bytes() == body  # ...the pinned one still reads
        assert not path.exists()  # and leaves nothing behind
        # Evicted before pinning: the bytes come out of the descriptor still open.
        await consume(await cache.get("k2", "b/k2", stream_maker(body)))
        late = cache.lookup("k2")
        cache.purge_prefix("b/")
        async with late.pinned() as path:
            assert path.read_bytes() == body
        late.close()
        entry.close()
        assert not list(cache.staging_dir.iterdir())
    finally:
        await cache.close()
