"""Reconciling the index with the files: at start, and `python -m proxy cache check [--fix]`."""

import os
import subprocess
import sys
import time

from proxy.cache import Cache
from proxy.cache.reconcile import ORPHAN_GRACE, check, reconcile_at_start
from tests.cache.helpers import body_files, bytes_maker, consume, fill_and_read, settings


async def started(tmp_path) -> Cache:
    cache = Cache(settings(tmp_path / "c"))
    await cache.start()
    return cache


async def test_orphans_missing_bodies_and_totals_are_found_and_fixed(tmp_path, monkeypatch):
    cache = await started(tmp_path)
    try:
        for i in range(3):
            await fill_and_read(cache, f"k{i}", os.urandom(30_000))
        first, second, third = sorted(body_files(cache))
        orphan = cache.data_dir / "ab" / "cd" / "left.behind"
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(b"o" * 1000)
        first.unlink()  # a body lost from under its row
        with open(second, "r+b") as f:
            f.truncate(10)
        with cache.index._write() as db:  # totals drift
            db.execute("UPDATE totals SET bytes = bytes + 12345")
        later = os.stat(orphan).st_ctime + ORPHAN_GRACE + 1
        monkeypatch.setattr(time, "time", lambda: later)
        report = check(cache, fix=False, verify=True)
        assert (report.orphans, report.missing, report.wrong_size) == (1, 1, 1)
        assert orphan.exists() and cache.index.totals().entries == 3  # only looked
        report = check(cache, fix=True, verify=True)
        assert not orphan.exists()
        assert cache.index.totals().entries == 1 and report.totals_off
        assert cache.index.totals().file_bytes == third.stat().st_size
        monkeypatch.undo()
        assert check(cache, fix=False, verify=True).clean
    finally:
        await cache.close()


async def test_a_young_file_is_never_taken_for_an_orphan(tmp_path):
    cache = await started(tmp_path)
    try:
        young = cache.data_dir / "ab" / "cd" / "just.renamed"
        young.parent.mkdir(parents=True)
        young.write_bytes(b"y")
        assert check(cache, fix=True, verify=False).orphans == 0
        assert young.exists()
    finally:
        await cache.close()


async def test_check_reads_every_body_against_its_checksum(tmp_path):
    cache = await started(tmp_path)
    try:
        await consume(await cache.get("k", "b/k", bytes_maker(os.urandom(50_000))))
        (path,) = body_files(cache)
        data = bytearray(path.read_bytes())
        data[100] ^= 0xFF
        path.write_bytes(bytes(data))
        assert check(cache, fix=False, verify=True).damaged == 1
        assert check(cache, fix=True, verify=True).damaged == 1
        assert cache.index.totals().entries == 0 and body_files(cache) == []
    finally:
        await cache.close()


async def test_workers_starting_together_reconcile_once(tmp_path):
    cache = await started(tmp_path)
    other = Cache(settings(tmp_path / "c"))
    try:
        await reconcile_at_start(cache)
        done = cache.index.info("reconciled")
        assert done is not None
        await reconcile_at_start(other)  # right after: nothing to do again
        assert other.index.info("reconciled") == done
    finally:
        await cache.close()
        await other.close()


def test_the_check_command_reports_and_repairs(tmp_path):
    data = tmp_path / "data"
    (data / "storage" / "abc-public").mkdir(parents=True)
    env = {"PATH": "/usr/bin:/bin", "DATA_PATH": str(data)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "proxy", "cache", "check", *args],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    clean = run()
    assert clean.returncode == 0, clean.stderr
    assert "storage: 0 bodies checked; all good" in clean.stdout
    folder = data / "proxy_cache" / "previews" / "data" / "ab" / "cd"
    folder.mkdir(parents=True, exist_ok=True)
    orphan = folder / "x.1"
    orphan.write_bytes(b"z")
    # Its ctime is now, and a file younger than the grace is not an orphan yet: poll.
    deadline = time.monotonic() + ORPHAN_GRACE + 10
    while (found := run()).returncode == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert found.returncode == 1 and "found 1 orphan files" in found.stdout
    fixed = run("--fix")
    assert fixed.returncode == 0 and "removed 1 orphan files" in fixed.stdout
    assert not orphan.exists()
