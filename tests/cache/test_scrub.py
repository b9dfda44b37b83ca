import asyncio
import os

from proxy.cache import Cache
from proxy.cache.scrub import scrub_forever
from tests.cache.helpers import body_files, fill_and_read, settings


async def test_the_scrubber_finds_damage_nobody_asked_about(tmp_path):
    cache = Cache(settings(tmp_path / "c", size=64 << 20))
    await cache.start()
    try:
        bodies = {f"k{i}": os.urandom(300_000) for i in range(3)}
        for key, body in bodies.items():
            await fill_and_read(cache, key, body)
        victim = sorted(body_files(cache))[1]
        with open(victim, "r+b") as f:
            f.seek(1000)
            f.write(b"\xff\x00\xff")
        task = asyncio.create_task(scrub_forever(cache, rate=1 << 30))
        for _ in range(1000):
            if cache.index.totals().entries == 2:
                break
            await asyncio.sleep(0.01)
        task.cancel()
        assert cache.index.totals().entries == 2
        assert not victim.exists()
    finally:
        await cache.close()
