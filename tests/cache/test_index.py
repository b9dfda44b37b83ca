"""The on-disk index: damage and recovery, concurrent opening, fills, pending rows, purges."""

import json
import multiprocessing
import os
import sqlite3
import time

import pytest

from proxy.cache import owner
from proxy.cache.index import Index, Removed, Totals

BOUND = 1 << 30


def nothing(item: Removed) -> None:
    pass


def put(index: Index, key: str, *, source: str = "b/k", size: int = 10, ready: bool = True):
    file = None if ready else f"aa/bb/{key}"
    body = b"x" * size if ready else None
    return index.put(key, source, file, body, size, "c", {"m": 1}, nothing, ready=ready)


def test_a_truncated_index_is_moved_aside_and_a_fresh_one_serves(tmp_path):
    index = Index(tmp_path, bound=BOUND)
    for i in range(200):
        put(index, f"k{i}")
    index.close()
    path = tmp_path / "index.sqlite"
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    fresh = Index(tmp_path, bound=BOUND)
    assert fresh.recovered_from is not None
    assert fresh.recovered_from.name.startswith("index.sqlite.damaged-")
    assert fresh.recovered_from.exists()
    assert fresh.get("k1") is None and fresh.totals().entries == 0
    put(fresh, "new")
    assert fresh.get("new") is not None


def test_garbage_where_the_index_should_be(tmp_path, caplog):
    (tmp_path / "index.sqlite").write_bytes(os.urandom(10_000))
    index = Index(tmp_path, bound=BOUND)
    put(index, "k")
    assert index.get("k") is not None
    assert "was damaged" in caplog.text and "index.sqlite.damaged-" in caplog.text


def test_damage_seen_while_serving_is_repaired_once(tmp_path):
    first = Index(tmp_path, bound=BOUND)
    second = Index(tmp_path, bound=BOUND)  # another process, same file
    put(first, "k")
    first.upkeep()  # everything in the main file
    first.close()
    second.close()
    (tmp_path / "index.sqlite").write_bytes(b"\0" * 8192)  # the disk goes bad under both
    with pytest.raises(sqlite3.DatabaseError) as err:
        first.totals()
    first.recover(err.value)
    moved = first.recovered_from
    second.recover(err.value)  # the second sees the new file: it only reconnects
    assert second.recovered_from is None or second.recovered_from == moved
    put(second, "after")
    assert first.get("after") is not None


def _worker(path: str, commands) -> None:  # in a child process: another worker of the cache
    from pathlib import Path

    index = Index(Path(path), bound=BOUND)
    index.get("before")  # its connection is open from here on
    commands.send("ready")
    while True:
        command, key = commands.recv()
        if command == "stop":
            return
        if command == "put":
            put(index, key)
            commands.send(None)
        elif command == "get":
            commands.send(index.get(key) is not None)
        elif command == "totals":
            commands.send(index.totals())


def test_a_recovery_is_followed_by_a_worker_holding_its_connection_open(tmp_path):
    """The other worker did not see the damage: it still follows the fresh file within a
    second, so fills are shared and both count the same bound again."""
    first = Index(tmp_path, bound=BOUND)
    put(first, "before")
    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe()
    worker = ctx.Process(target=_worker, args=(str(tmp_path), theirs))
    worker.start()
    try:
        assert ours.recv() == "ready"

        def ask(command: str, key: str = "") -> object:
            ours.send((command, key))
            assert ours.poll(30), "the worker did not answer"
            return ours.recv()

        assert ask("get", "before") is True
        first.recover(sqlite3.DatabaseError("database disk image is malformed"))
        recovered = time.monotonic()
        assert first.recovered_from is not None and first.get("before") is None
        put(first, "fresh")
        while not ask("get", "fresh"):  # asked as requests would: no sleep in between
            assert time.monotonic() - recovered < 1.0, "the worker still reads the moved file"
        ask("put", "from-worker")
        assert first.get("from-worker") is not None
        assert ask("totals") == first.totals()
        assert first.totals().entries == 2
    finally:
        ours.send(("stop", ""))
        worker.join(30)


def _open_and_write(path: str, round_: int, results) -> None:  # in a child process
    from pathlib import Path

    try:
        index = Index(Path(path), bound=BOUND)
        put(index, f"{os.getpid()}-{round_}")
        results.put("ok")
    except Exception as exc:  # reported to the test, which fails with it
        results.put(repr(exc))


@pytest.mark.parametrize("start", ["fresh", "damaged"])
def test_four_processes_opening_at_once_never_fail(tmp_path, start):
    ctx = multiprocessing.get_context("fork")
    for round_ in range(20):
        folder = tmp_path / f"{start}-{round_}"
        folder.mkdir()
        if start == "damaged":
            (folder / "index.sqlite").write_bytes(os.urandom(4096))
        results = ctx.Queue()
        procs = [
            ctx.Process(target=_open_and_write, args=(str(folder), round_, results))
            for _ in range(4)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(30)
        outcomes = [results.get(timeout=5) for _ in procs]
        assert outcomes == ["ok"] * 4, outcomes
        assert Index(folder, bound=BOUND).totals().entries == 4


def test_a_version_1_index_is_migrated_with_its_entries(tmp_path):
    db = sqlite3.connect(tmp_path / "index.sqlite")
    db.executescript(
        """
        CREATE TABLE entries (key TEXT PRIMARY KEY, source TEXT NOT NULL, file TEXT, body BLOB,
            size INTEGER NOT NULL, meta TEXT NOT NULL, stored REAL NOT NULL,
            accessed REAL NOT NULL);
        CREATE TABLE totals (id INTEGER PRIMARY KEY CHECK (id = 0), bytes INTEGER NOT NULL,
            entries INTEGER NOT NULL);
        INSERT INTO totals VALUES (0, 3, 1);
        """
    )
    db.execute(
        "INSERT INTO entries VALUES ('k', 'b/k', NULL, x'616263', 3, ?, 1.0, 2.0)",
        (json.dumps({"content_type": "t", "etag": "e", "last_modified": 0, "size": 3}),),
    )
    db.commit()
    db.close()
    index = Index(tmp_path, bound=BOUND)
    row = index.get("k")
    assert row is not None and row.body == b"abc" and row.checksum is None
    assert index.totals().inline_bytes == 3 and index.totals().entries == 1


def test_one_process_fills_a_key_the_others_follow_and_a_dead_ones_fill_is_taken_over(
    tmp_path,
):
    index = Index(tmp_path, bound=BOUND)
    me = owner.me()
    assert index.claim_fill("k", "s1", me, owner.alive) is True
    other = index.claim_fill("k", "s2", "1-1", owner.alive)  # somebody else: sees ours
    assert other is not True and other is not False and other.owner == me
    dead = "999999999-1"
    assert index.claim_fill("j", "s3", dead, lambda o: True) is True
    assert index.claim_fill("j", "s4", me, owner.alive) is True  # its owner is gone
    assert index.fill_of("j").owner == me
    put(index, "done")
    assert index.claim_fill("done", "s5", me, owner.alive) is False  # made already


def test_fills_of_dead_processes_and_their_pending_rows_are_cleared(tmp_path):
    index = Index(tmp_path, bound=BOUND)
    index.claim_fill("k", "staged", "999999999-1", lambda o: True)
    put(index, "k", ready=False, size=5)
    assert index.get("k") is None  # pending: never served
    assert index.pending_files() == []  # a fill still owns it
    dead = index.dead_fills(owner.alive)
    assert [f.staging for f in dead] == ["staged"]
    assert index.totals().entries == 0  # the pending row went with its fill


def test_a_pending_row_becomes_an_entry_only_when_ready(tmp_path):
    index = Index(tmp_path, bound=BOUND)
    index.claim_fill("k", "s", owner.me(), owner.alive)
    put(index, "k", ready=False)
    assert index.get("k") is None
    assert index.make_ready("k") is True
    assert index.get("k") is not None and index.fill_of("k") is None


def test_a_purge_walks_the_source_index_in_batches(tmp_path):
    index = Index(tmp_path, bound=BOUND)
    for i in range(1200):
        put(index, f"p{i}", source=f"b/photos/{i}.jpg")
    put(index, "other", source="b/other.jpg")
    plan = (
        index._db()
        .execute(
            "EXPLAIN QUERY PLAN SELECT key FROM entries WHERE source >= ? AND source < ?",
            ("b/photos/", "b/photos0"),
        )
        .fetchall()
    )
    assert "entries_source" in str(plan)
    batches = []
    while removed := index.remove_source_batch("b/photos/", nothing):
        batches.append(len(removed))
    assert sum(batches) == 1200 and max(batches) <= 500
    assert index.get("other") is not None


def test_the_files_go_before_their_rows(tmp_path):
    index = Index(tmp_path, bound=BOUND)
    put(index, "k", source="b/k")
    seen = []

    def unlink(item: Removed) -> None:
        # While the file is unlinked, its row must still be there (deleted after).
        seen.append(
            index._db().execute("SELECT 1 FROM entries WHERE key = ?", (item.key,)).fetchone()
        )

    index.remove_source_batch("b/", unlink)
    assert seen == [(1,)]


def test_the_write_ahead_log_stays_a_small_share_of_the_bound(tmp_path):
    bound = 1 << 20
    index = Index(tmp_path, bound=bound)
    for i in range(3000):
        put(index, f"k{i}", size=200)
        if i % 500 == 0:
            index.upkeep()
    index.upkeep()
    wal = tmp_path / "index.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size <= index.wal_limit
    assert index.disk_bytes() + 0 <= bound * 1.05


def test_replacing_a_row_drops_the_old_body_and_counts_only_the_new(tmp_path):
    index = Index(tmp_path, bound=BOUND)
    unlinked: list[Removed] = []
    first = index.put(
        "k", "b/k", "aa/bb/old", None, 50_000, "c1", {"m": 1}, unlinked.append, ready=True
    )
    assert first == [] and index.totals() == Totals(50_000, 0, 1)
    old_stored = index.get("k").stored
    # The same key again, now an inline body: the old row goes, its file with it.
    removed = index.put("k", "b/k2", None, b"new", 3, "c2", {"m": 2}, unlinked.append, ready=True)
    assert removed == [Removed("k", "aa/bb/old", 50_000)] == unlinked
    row = index.get("k")
    assert (row.body, row.file, row.source, row.checksum, row.meta) == (
        b"new", None, "b/k2", "c2", {"m": 2},
    )  # fmt: skip
    assert row.stored >= old_stored
    assert index.totals() == Totals(0, 3, 1)
    # And back to a file, put pending: the inline row goes at once, the new one is no hit yet.
    unlinked.clear()
    removed = index.put(
        "k", "b/k", "cc/dd/new", None, 70_000, "c3", {"m": 3}, unlinked.append, ready=False
    )
    assert removed == [Removed("k", None, 3)] == unlinked
    assert index.get("k") is None
    assert index.make_ready("k") and index.get("k").file == "cc/dd/new"
    assert index.totals() == Totals(70_000, 0, 1)
    index.recount()  # the running totals agree with the rows
    assert index.totals() == Totals(70_000, 0, 1)


def test_replacing_a_row_never_evicts_the_row_just_written(tmp_path):
    index = Index(tmp_path, bound=1)  # everything is over the bound
    put(index, "a")
    removed = put(index, "a", size=20)
    assert [item.key for item in removed] == ["a"]  # only the replaced row
    assert index.get("a").size == 20


def test_an_idle_expired_entry_does_not_stop_its_refill(tmp_path):
    index = Index(tmp_path, bound=BOUND)
    put(index, "k")
    accessed = index.get("k").accessed
    me = owner.me()
    assert index.claim_fill("k", "s1", me, owner.alive, fresh_after=accessed) is False
    assert index.claim_fill("k", "s2", me, owner.alive, fresh_after=accessed + 1) is True
    assert index.get("k") is not None  # still there to be served stale while it is refilled
    put(index, "k", size=20)  # the refill commits: it replaces the old row
    assert index.get("k").size == 20 and index.fill_of("k") is None
