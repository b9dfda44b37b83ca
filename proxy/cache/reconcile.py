"""Making the index and the files agree, like diskcache's `check(fix=True)`.

At start (in the background, one process at a time) and on demand (`python -m proxy cache
check [--fix]`): files in `data/` the index does not name are removed, rows whose file is
missing or has the wrong size are dropped, and the byte totals are recomputed. On demand it
also reads every body and checks it against its checksum.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from proxy.cache import checksum
from proxy.cache.cache import Cache
from proxy.units import format_size

log = logging.getLogger("proxy.cache")

# A file younger than this is left alone even when no row names it: a body is renamed into
# `data/` only after its (pending) row exists, so this only has to cover the moment between
# reading a folder's rows and listing the folder.
ORPHAN_GRACE = 2.0
# Workers starting together reconcile once: not again within this time.
RECONCILE_EVERY = 300.0


@dataclass
class Report:
    cache: str
    orphans: int = 0
    orphan_bytes: int = 0
    missing: int = 0
    wrong_size: int = 0
    damaged: int = 0
    totals_off: bool = False
    checked: int = 0
    fixed: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing or self.wrong_size or self.damaged)

    def lines(self) -> list[str]:
        done = "removed" if self.fixed else "found"
        parts = [f"{self.cache}: {self.checked} bodies checked"]
        if self.orphans:
            parts.append(f"{done} {self.orphans} orphan files ({format_size(self.orphan_bytes)})")
        if self.missing:
            parts.append(f"{done} {self.missing} entries whose body file is missing")
        if self.wrong_size:
            parts.append(f"{done} {self.wrong_size} entries whose body has the wrong size")
        if self.damaged:
            parts.append(f"{done} {self.damaged} entries whose body fails its checksum")
        if self.totals_off:
            parts.append("byte totals " + ("recomputed" if self.fixed else "are off"))
        if len(parts) == 1:
            parts.append("all good")
        return ["; ".join(parts)]


@contextlib.contextmanager
def one_at_a_time(cache: Cache, name: str) -> Iterator[bool]:
    """True while this process holds the cache's `name` lock; False if another does."""
    fd = os.open(cache.directory / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


async def reconcile_at_start(cache: Cache) -> None:
    """In the background, by one process at a time, at most once per RECONCILE_EVERY."""
    with one_at_a_time(cache, "reconcile") as mine:
        if not mine:
            return
        last = float(cache.guarded(cache.index.info, "reconciled") or 0)
        if time.time() - last < RECONCILE_EVERY:
            return
        report = await asyncio.to_thread(check, cache, fix=True, verify=False)
        await cache.guarded_in_thread(cache.index.set_info, "reconciled", str(time.time()))
    if not report.clean:
        log.warning("reconciled: %s", report.lines()[0])


def check(cache: Cache, *, fix: bool, verify: bool) -> Report:
    """Runs in a thread (or a command): walks the files, then the rows."""
    report = Report(cache.name, fixed=fix)
    _orphans(cache, report, fix)
    _rows(cache, report, fix, verify)
    before = cache.guarded(cache.index.totals)
    if fix:
        cache.guarded(cache.index.recount)
        report.totals_off = cache.guarded(cache.index.totals) != before
        cache.publish_size()
    return report


def _orphans(cache: Cache, report: Report, fix: bool) -> None:
    young = time.time() - ORPHAN_GRACE
    for outer in _folders(cache.data_dir):
        for inner in _folders(outer.path):
            folder = f"{outer.name}/{inner.name}"
            known = cache.guarded(cache.index.files_under, folder)
            for item in os.scandir(inner.path):
                relative = f"{folder}/{item.name}"
                if relative in known or not item.is_file(follow_symlinks=False):
                    continue
                stat = item.stat(follow_symlinks=False)
                if stat.st_ctime > young:  # renamed in since the index was read
                    continue
                report.orphans += 1
                report.orphan_bytes += stat.st_size
                if fix:
                    cache.bodies.unlink(relative)


def _folders(path: os.PathLike[str] | str) -> list[os.DirEntry[str]]:
    with os.scandir(path) as items:
        return [i for i in items if i.is_dir(follow_symlinks=False) and len(i.name) == 2]


def _rows(cache: Cache, report: Report, fix: bool, verify: bool) -> None:
    after = 0
    while rows := cache.guarded(cache.index.file_rows, after):
        for rowid, key, relative, size, digest in rows:
            after = rowid
            report.checked += 1
            problem = _body_problem(cache, relative, size, digest, verify)
            if problem is None:
                continue
            setattr(report, problem, getattr(report, problem) + 1)
            if fix:
                removed = cache.guarded(
                    cache.index.remove_file_entry, key, relative, cache.unlink_body
                )
                cache.after_removal(removed, "corrupt")


def _body_problem(cache: Cache, relative: str, size: int, digest: str, verify: bool) -> str | None:
    try:
        fd = os.open(cache.bodies.path(relative), os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return "missing"
    try:
        if os.fstat(fd).st_size != size:
            return "wrong_size"
        if verify and digest and checksum.of_file(fd, size) != digest:
            return "damaged"
    finally:
        os.close(fd)
    return None
