"""`python -m proxy migrate`: copy the local storage (DATA_PATH/storage) to a remote store.

Bucket and key names stay the same. The copy is resumable: an object already at the target
with the same size and MD5 is skipped, so a second run after an interruption copies only the
rest. Every copy is verified by a head after the put. Nothing is ever deleted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import mimetypes
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from proxy.progress import progress_bar
from proxy.settings import Settings, StorageSettings, parse_settings, read_env_file
from proxy.storage import Storage, StorageError, create_storage
from proxy.storage.checksums import file_md5
from proxy.storage.keys import validate_key
from proxy.storage.local import LocalStorage
from proxy.units import format_size


@dataclass(frozen=True)
class Item:
    bucket: str
    key: str
    size: int


@dataclass
class Summary:
    copied: int = 0
    copied_bytes: int = 0
    skipped: int = 0
    would_copy: int = 0
    failed: list[tuple[Item, str]] = field(default_factory=list)

    def lines(self, dry_run: bool) -> list[str]:
        if dry_run:
            head = f"dry run: would copy {self.would_copy} objects"
        else:
            head = f"copied {self.copied} objects ({format_size(self.copied_bytes)})"
        lines = [f"{head}, skipped {self.skipped} already there, failed {len(self.failed)}"]
        lines += [f"failed: {item.bucket}/{item.key}: {reason}" for item, reason in self.failed]
        return lines


class VerifyFailed(Exception):
    """The object at the target is not what was sent."""


class MigrationError(Exception):
    """The migration cannot start; the message says why."""


def source_storage(settings: Settings, buckets: list[str] | None) -> LocalStorage:
    """The local layout under DATA_PATH/storage, whatever provider the settings now name."""
    root = settings.storage.root
    present = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    chosen = buckets or present
    missing = [b for b in chosen if b not in present]
    if missing:
        raise MigrationError(f"no such bucket folder under {root}: {', '.join(missing)}")
    if not chosen:
        raise MigrationError(f"nothing to migrate: no bucket folders under {root}")
    local = dataclasses.replace(settings.storage, provider="http", buckets=tuple(chosen))
    return LocalStorage(local)


def target_settings(env_file: Path, buckets: tuple[str, ...]) -> StorageSettings:
    values = read_env_file(env_file)
    if not values.get("STORAGE_BUCKETS", "").strip():
        values["STORAGE_BUCKETS"] = ",".join(buckets)
    storage = parse_settings(values, env_file).storage
    # The target must accept every bucket being copied, listed in its file or not.
    return dataclasses.replace(storage, buckets=tuple(sorted({*storage.buckets, *buckets})))


class Migration:
    def __init__(
        self,
        source: LocalStorage,
        target: Storage,
        *,
        concurrency: int = 4,
        dry_run: bool = False,
        stream: TextIO | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.concurrency = max(1, concurrency)
        self.dry_run = dry_run
        self.stream = stream if stream is not None else sys.stderr
        self.summary = Summary()
        self.progress: tqdm[Any] | None = None
        self.total = 0
        self.done = 0

    async def plan(self) -> list[Item]:
        items = []
        for bucket in sorted(self.source.buckets):
            async for key, size in self.source.list_keys(bucket):
                items.append(Item(bucket, key, size))
        return items

    async def run(self) -> Summary:
        items = await self.plan()
        self.total, self.done = len(items), 0
        self.progress = self.make_progress(items)
        queue: asyncio.Queue[Item] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)
        workers = [asyncio.create_task(self._worker(queue)) for _ in range(self.concurrency)]
        try:
            await asyncio.gather(*workers)
        finally:
            for worker in workers:
                worker.cancel()
            self.progress.close()
        return self.summary

    def make_progress(self, items: list[Item]) -> tqdm[Any]:
        # By bytes, which is what takes the time; the object count rides along.
        return progress_bar(
            sum(item.size for item in items),
            desc="checking" if self.dry_run else "copying",
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            postfix=f"0/{len(items)} objects",
            stream=self.stream,
        )

    def advance(self, item: Item) -> None:
        assert self.progress is not None
        self.done += 1
        self.progress.set_postfix_str(f"{self.done}/{self.total} objects", refresh=False)
        self.progress.update(item.size)

    async def _worker(self, queue: asyncio.Queue[Item]) -> None:
        while not queue.empty():
            item = queue.get_nowait()
            try:
                await self.copy(item)
            except (StorageError, OSError, VerifyFailed) as exc:
                self.summary.failed.append((item, str(exc) or type(exc).__name__))
            self.advance(item)

    async def copy(self, item: Item) -> None:
        validate_key(item.key)
        path = self.source.root / item.bucket / item.key
        md5 = await file_md5(path)
        there = await self.target.stat_for_copy(item.bucket, item.key)
        if there is not None and there.size == item.size and there.md5 == md5:
            self.summary.skipped += 1
            return
        if self.dry_run:
            self.summary.would_copy += 1
            return
        content_type = mimetypes.guess_type(item.key, strict=False)[0]
        await self.target.put(
            item.bucket, item.key, path, content_type or "application/octet-stream"
        )
        copied = await self.target.stat_for_copy(item.bucket, item.key)
        if copied is None:
            raise VerifyFailed("not found at the target after the upload")
        if copied.size != item.size:
            raise VerifyFailed(f"size {copied.size} at the target, {item.size} here")
        if copied.md5 is not None and copied.md5 != md5:
            raise VerifyFailed("checksum at the target differs")
        self.summary.copied += 1
        self.summary.copied_bytes += item.size


async def migrate(
    settings: Settings,
    target_env: Path,
    *,
    buckets: list[str] | None = None,
    concurrency: int = 4,
    dry_run: bool = False,
    stream: TextIO | None = None,
    report: TextIO | None = None,
) -> int:
    """The `migrate` command; returns the exit status (1 if anything failed).

    Problems and the progress bar go to `stream` (stderr), the summary to `report` (stdout).
    """
    out = stream if stream is not None else sys.stderr
    report = report if report is not None else sys.stdout
    try:
        source = source_storage(settings, buckets)
    except MigrationError as exc:
        print(f"error: {exc}", file=out)
        return 2
    target = create_storage(target_settings(target_env, tuple(sorted(source.buckets))))
    await target.start()
    try:
        problems = await target.probe()
        if problems:
            for line in problems:
                print(f"target: {line}", file=out)
            return 1
        migration = Migration(source, target, concurrency=concurrency, dry_run=dry_run, stream=out)
        summary = await migration.run()
    finally:
        await target.close()
    for line in summary.lines(dry_run):
        print(line, file=report)
    return 1 if summary.failed else 0
