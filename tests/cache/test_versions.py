"""What is known of each original's version, shared by the workers through `sources.sqlite`."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from proxy.cache.versions import FAILED_RETRY, SourcesTable, Verdict, Versions

ORIGIN = "pics/a.jpg"


class Store:
    """A checker over versions the test sets; counts what it was asked, may hold answers."""

    def __init__(self, etag: str | None = "v1") -> None:
        self.etag = etag
        self.asked = 0
        self.dropped: list[str] = []
        self.hold: asyncio.Event | None = None
        self.entered = asyncio.Event()
        self.fail = False

    async def check(self, origin: str) -> str | None:
        self.asked += 1
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail:
            raise ConnectionError("store down")
        return self.etag

    async def drop(self, origin: str) -> None:
        self.dropped.append(origin)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def worker(directory: Path, store: Store, clock: Clock, **kwargs: object) -> Versions:
    versions = Versions(directory, interval=60.0, clock=clock, **kwargs)  # type: ignore[arg-type]
    versions.attach(store.check, store.drop)
    return versions


async def test_a_fill_makes_its_version_current(tmp_path):
    clock, store = Clock(), Store()
    versions = worker(tmp_path, store, clock)
    await versions.learned(ORIGIN, "v1")
    assert await versions.judge(ORIGIN, "v1", clock.now) is Verdict.CURRENT
    assert await versions.judge(ORIGIN, "v0", clock.now) is Verdict.OUTDATED
    clock.now += 60
    assert await versions.judge(ORIGIN, "v1", clock.now) is Verdict.DUE


async def test_a_restarted_process_knows_what_another_learned(tmp_path):
    clock, store = Clock(), Store()
    await worker(tmp_path, store, clock).learned(ORIGIN, "v2")
    later = worker(tmp_path, store, clock)  # a new process: nothing in memory
    assert later.quick(ORIGIN, "v1", 0.0) is None
    assert await later.judge(ORIGIN, "v1", clock.now) is Verdict.OUTDATED


async def test_single_flight_across_workers_one_check_per_interval(tmp_path):
    clock, store = Clock(), Store()
    first, second = worker(tmp_path, store, clock), worker(tmp_path, store, clock)
    await first.learned(ORIGIN, "v1")
    clock.now += 61
    store.hold = asyncio.Event()
    for versions in (first, second, first, second):
        assert await versions.judge(ORIGIN, "v1", 0.0) is Verdict.DUE
        versions.schedule(ORIGIN, "v1")
    await store.entered.wait()  # one of them holds the claim and asks the store
    store.hold.set()
    await first.settled()
    await second.settled()
    assert store.asked == 1
    await second.poll()  # what the other worker learned, as its once-a-second read does
    assert second.quick(ORIGIN, "v1", 0.0) is Verdict.CURRENT


async def test_a_changed_version_is_recorded_before_its_entries_are_dropped(tmp_path):
    clock, store = Clock(), Store("v2")
    first, second = worker(tmp_path, store, clock), worker(tmp_path, store, clock)
    await first.learned(ORIGIN, "v1")
    assert await second.judge(ORIGIN, "v1", 0.0) is Verdict.CURRENT
    clock.now += 61
    first.schedule(ORIGIN, "v1")
    await first.settled()
    assert store.dropped == [ORIGIN]
    assert first.quick(ORIGIN, "v1", 0.0) is Verdict.OUTDATED
    assert first.quick(ORIGIN, "v2", clock.now) is Verdict.CURRENT
    await second.poll()
    assert second.quick(ORIGIN, "v1", 0.0) is Verdict.OUTDATED


async def test_a_deleted_original_outdates_every_version(tmp_path):
    clock, store = Clock(), Store(None)
    versions = worker(tmp_path, store, clock)
    await versions.learned(ORIGIN, "v1")
    clock.now += 61
    versions.schedule(ORIGIN, "v1")
    await versions.settled()
    assert store.dropped == [ORIGIN]
    assert await versions.judge(ORIGIN, "v1", clock.now) is Verdict.OUTDATED
    await versions.learned(ORIGIN, "v3")  # uploaded again: a fill learns it
    assert await versions.judge(ORIGIN, "v3", clock.now) is Verdict.CURRENT


async def test_a_failing_store_keeps_serving_and_waits_before_asking_again(tmp_path):
    clock, store = Clock(), Store()
    store.fail = True
    versions = worker(tmp_path, store, clock)
    await versions.learned(ORIGIN, "v1")
    clock.now += 61
    versions.schedule(ORIGIN, "v1")
    await versions.settled()
    assert versions.failing(ORIGIN)
    assert await versions.judge(ORIGIN, "v1", 0.0) is Verdict.DUE  # served, as STALE
    assert versions.schedule(ORIGIN, "v1") is None  # no storm of checks at a dead store
    clock.now += FAILED_RETRY
    store.fail = False
    assert versions.schedule(ORIGIN, "v1") is not None
    await versions.settled()
    assert store.asked == 2 and not versions.failing(ORIGIN)
    assert await versions.judge(ORIGIN, "v1", 0.0) is Verdict.CURRENT


async def test_strict_mode_waits_for_the_answer(tmp_path):
    clock, store = Clock(), Store("v2")
    versions = worker(tmp_path, store, clock, wait=True)
    await versions.learned(ORIGIN, "v1")
    clock.now += 61
    assert await versions.settle(ORIGIN, "v1", 0.0) is Verdict.OUTDATED


async def test_an_unknown_new_version_outdates_what_was_stored_before(tmp_path):
    clock, store = Clock(), Store()
    versions = worker(tmp_path, store, clock)
    await versions.learned(ORIGIN, "v1")
    await versions.record_change(ORIGIN, None)  # a purge or an event: new bytes, version unknown
    assert await versions.judge(ORIGIN, "v1", clock.now - 1) is Verdict.OUTDATED
    assert await versions.judge(ORIGIN, "v1", clock.now + 1) is Verdict.CURRENT


async def test_a_damaged_table_starts_again(tmp_path):
    clock, store = Clock(), Store()
    versions = worker(tmp_path, store, clock)
    await versions.learned(ORIGIN, "v1")
    versions.table.close()
    path = tmp_path / "sources.sqlite"
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    table = SourcesTable(tmp_path)
    assert table.get(ORIGIN) is None  # a new, empty table: each original is checked again
    table.learn(ORIGIN, "v2", clock.now)
    assert sqlite3.connect(path).execute("SELECT etag FROM sources").fetchall() == [("v2",)]
