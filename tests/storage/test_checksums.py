"""Content MD5s of files, and that they match what the stores report for a copy."""

from __future__ import annotations

import hashlib
import os

from proxy.storage import create_storage
from proxy.storage.base import CHUNK_SIZE
from proxy.storage.checksums import file_md5


async def test_the_md5_of_a_file_of_several_chunks(tmp_path):
    for size in (0, 1, CHUNK_SIZE, 2 * CHUNK_SIZE + 17):
        path = tmp_path / f"f{size}"
        body = os.urandom(size)
        path.write_bytes(body)
        assert await file_md5(path) == hashlib.md5(body).hexdigest(), size


async def test_a_copy_put_to_a_remote_store_reports_the_same_md5(remote_store, tmp_path):
    store = remote_store
    path = tmp_path / "copy.bin"
    path.write_bytes(os.urandom(CHUNK_SIZE + 4321))
    storage = create_storage(store.settings().storage)
    await storage.start()
    try:
        await storage.put(store.bucket, "copies/copy.bin", path, "application/octet-stream")
        info = await storage.head(store.bucket, "copies/copy.bin")
        assert info.md5 == await file_md5(path)
    finally:
        await storage.close()
