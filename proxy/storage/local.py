"""The `http` provider: objects are files under DATA_PATH/storage/<bucket>/<key>."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import mimetypes
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from proxy.settings import StorageSettings
from proxy.storage.base import CHUNK_SIZE, ObjectInfo, ObjectStream, Storage
from proxy.storage.errors import ObjectMissing, Unavailable
from proxy.storage.ranges import resolve_range

log = logging.getLogger("proxy.storage")


def missing_bucket_folders(settings: StorageSettings) -> list[Path]:
    """The folders of configured buckets that do not exist (yet)."""
    return [settings.root / b for b in sorted(settings.buckets) if not (settings.root / b).exists()]


class LocalStorage(Storage):
    provider = "http"

    def __init__(self, settings: StorageSettings) -> None:
        super().__init__(settings)
        self.root = settings.root

    async def start(self) -> None:
        # A bucket that STORAGE_BUCKETS names is a promise that it is served: on a fresh volume
        # its folder is made here, empty, instead of the proxy reporting itself unhealthy.
        for path in missing_bucket_folders(self.settings):
            try:
                path.mkdir(parents=True)
            except FileExistsError:
                continue  # another worker made it first
            except OSError as exc:
                # /health and `check` then name the bucket as missing.
                log.warning("cannot create bucket folder %s: %s", path, exc.strerror)
                continue
            log.info("created bucket folder %s: STORAGE_BUCKETS names it", path)

    def _path(self, bucket: str, key: str) -> Path:
        """The file for a key, refusing anything that resolves outside its bucket."""
        bucket_dir = os.path.realpath(self.root / bucket)
        target = os.path.realpath(os.path.join(bucket_dir, key))
        if os.path.commonpath([bucket_dir, target]) != bucket_dir or target == bucket_dir:
            # A symlink leading out of the bucket: to the client it simply isn't there.
            raise ObjectMissing(f"{bucket}/{key} not found")
        return Path(target)

    def _info(self, bucket: str, key: str, st: os.stat_result) -> ObjectInfo:
        content_type, _ = mimetypes.guess_type(key, strict=False)
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=st.st_size,
            content_type=content_type,
            # A file replaced by a rename has another inode, even with the same size and time.
            etag=f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}",
            last_modified=st.st_mtime,
        )

    def _open_file(self, bucket: str, key: str) -> tuple[int, os.stat_result]:
        path = self._path(bucket, key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectMissing(f"{bucket}/{key} not found") from exc
        except OSError as exc:
            raise Unavailable(f"cannot open {bucket}/{key}: {exc.strerror}") from exc
        st = os.fstat(fd)
        if not _is_file(st):
            os.close(fd)
            raise ObjectMissing(f"{bucket}/{key} not found")
        return fd, st

    async def _open(
        self, bucket: str, key: str, byte_range: tuple[int, int | None] | None
    ) -> ObjectStream:
        fd, st = await asyncio.to_thread(self._open_file, bucket, key)
        info = self._info(bucket, key, st)
        try:
            start, end = resolve_range(byte_range, info.size)
        except Exception:
            os.close(fd)
            raise
        length = end - start + 1 if info.size else 0
        closed = False
        # For sendfile(2): the descriptor stays ours, closed once by close().
        file = open(fd, "rb", buffering=0, closefd=False)  # noqa: SIM115

        async def close() -> None:
            nonlocal closed
            if not closed:
                closed = True
                file.close()
                os.close(fd)

        async def chunks() -> AsyncIterator[bytes]:
            offset, remaining = start, length
            try:
                while remaining > 0:
                    data = await asyncio.to_thread(os.pread, fd, min(CHUNK_SIZE, remaining), offset)
                    if not data:
                        raise Unavailable(f"{bucket}/{key} shrank while being read")
                    offset += len(data)
                    remaining -= len(data)
                    yield data
            finally:
                await close()

        return ObjectStream(info, chunks(), close, start=start, length=length, file=file)

    async def _head(self, bucket: str, key: str) -> ObjectInfo:
        def stat() -> os.stat_result:
            try:
                st = os.stat(self._path(bucket, key))
            except (FileNotFoundError, NotADirectoryError) as exc:
                raise ObjectMissing(f"{bucket}/{key} not found") from exc
            if not _is_file(st):
                raise ObjectMissing(f"{bucket}/{key} not found")
            return st

        return self._info(bucket, key, await asyncio.to_thread(stat))

    async def _probe_bucket(self, bucket: str) -> None:
        path = self.root / bucket
        if not path.is_dir():
            raise ObjectMissing(f"folder {path} does not exist")
        if not os.access(path, os.R_OK | os.X_OK):
            raise Unavailable(f"folder {path} is not readable")

    async def _put(self, bucket: str, key: str, path: Path, content_type: str | None) -> None:
        def copy() -> None:
            target = self.root / bucket / key
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
                    shutil.copyfileobj(src, out, CHUNK_SIZE)
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise

        await asyncio.to_thread(copy)

    async def _list_keys(self, bucket: str) -> AsyncIterator[tuple[str, int]]:
        base = self.root / bucket

        def walk() -> list[tuple[str, int]]:
            found = []
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames.sort()
                for name in sorted(filenames):
                    if name.startswith(".upload-"):
                        continue
                    full = os.path.join(dirpath, name)
                    try:
                        st = os.stat(full)
                    except OSError as exc:
                        if exc.errno != errno.ENOENT:
                            raise
                        continue
                    if _is_file(st):
                        found.append((os.path.relpath(full, base).replace(os.sep, "/"), st.st_size))
            return found

        for item in await asyncio.to_thread(walk):
            yield item


def _is_file(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)
