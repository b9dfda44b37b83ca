"""The three caches together: the purge cascade, and a large purge while hits keep flowing."""

import asyncio
import threading

from proxy.cache.caches import Caches
from proxy.cache.index import BATCH, Removed
from proxy.settings import parse_settings


def caches_over(tmp_path) -> Caches:
    return Caches.open(parse_settings({"DATA_PATH": str(tmp_path)}))


def nothing(item: Removed) -> None:
    pass


def test_purging_originals_drops_what_was_made_from_them(tmp_path):
    caches = caches_over(tmp_path)
    put = lambda cache, key, source: cache.index.put(  # noqa: E731
        key, source, None, b"x", 1, "c", {}, nothing, ready=True
    )
    put(caches.storage, "b/a.jpg", "b/a.jpg")
    put(caches.previews, "preview of a", "b/a.jpg")
    put(caches.image_converter, "conversion of a", "b/a.jpg")
    put(caches.previews, "preview of other", "b/other.jpg")
    assert caches.purge("b/a.jpg") == {"storage": 1, "previews": 1, "image_converter": 1}
    assert caches.previews.index.get("preview of other") is not None
    put(caches.image_converter, "conversion 2", "b/z.jpg")
    put(caches.previews, "preview of conversion 2", "b/z.jpg")
    assert caches.purge("b/z", only="image_converter") == {"image_converter": 1, "previews": 1}
    caches.close_offline()


async def test_a_purge_of_a_hundred_thousand_entries_never_stops_hits_or_fills(tmp_path):
    caches = caches_over(tmp_path)
    cache = caches.storage
    await cache.start()
    try:
        index = cache.index
        with index._write() as db:  # 100,000 entries, written the quick way
            db.executemany(
                "INSERT INTO entries VALUES (?, ?, NULL, ?, 1, ?, 0, ?, ?, 1, NULL)",
                (
                    (f"b/old/{i}", f"b/old/{i}", b"x", '{"content_type": "t", "etag": "e",'
                     ' "last_modified": 0, "size": 1}', 2e9, "dummy")
                    for i in range(100_000)
                ),
            )  # fmt: skip
        index.recount()
        index.put("b/hot.jpg", "b/hot.jpg", None, b"hot", 3, "c", {
            "content_type": "t", "etag": "e", "last_modified": 0, "size": 3}, nothing, ready=True)  # fmt: skip
        cache.memory.capacity = 0  # every hit goes to the index
        done = threading.Event()
        purged: list[int] = []

        def purge() -> None:
            purged.append(cache.purge_prefix("b/old/"))
            done.set()

        thread = threading.Thread(target=purge)
        thread.start()
        seen: set[int] = set()
        fills = 0
        count = "SELECT COUNT(*) FROM entries WHERE source >= 'b/old/' AND source < 'b/old0'"
        while not done.is_set():
            assert index.get("b/hot.jpg") is not None  # what a hit reads
            seen.add(index._db().execute(count).fetchone()[0])
            index.put(f"b/new/{fills}", f"b/new/{fills}", None, b"n", 1, "c", {}, nothing,
                      ready=True)  # fmt: skip
            fills += 1
            await asyncio.sleep(0)
        thread.join()
        assert purged == [100_000]
        # Short transactions with the lock left free between them: a fill got in after
        # (nearly) every one of the 200 batches, so this loop saw nearly every step. With
        # the batches back to back, fills waited out many batches at a time (16-51 steps
        # seen in runs by hand; the whole purge once).
        batches = 100_000 // BATCH
        assert len(seen - {100_000, 0}) >= batches * 3 // 4
        assert index.totals().entries == 1 + fills
    finally:
        await cache.close()
