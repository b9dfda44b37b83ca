"""Where one cache keeps its body files: `data/` for entries, `staging/` for bodies on the way.

Entries' files are named after the key's hash (two levels of folders, so no folder grows
huge) plus a random suffix, so a replaced entry never shares a name with its predecessor.
Staging files carry their owner's identity, so those of a dead process are recognised.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from proxy.cache import owner
from proxy.cache.index import unlink_quietly


class Bodies:
    def __init__(self, directory: Path) -> None:
        self.data_dir = directory / "data"
        self.staging_dir = directory / "staging"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)

    def staging_path(self, kind: str = "fill") -> Path:
        return self.staging_dir / f"{owner.me()}.{kind}.{secrets.token_hex(8)}"

    def relative_name(self, key: str) -> str:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"{digest[:2]}/{digest[2:4]}/{digest[4:]}.{secrets.token_hex(4)}"

    def path(self, relative: str) -> Path:
        return self.data_dir / relative

    def move_in(self, staged: Path, relative: str) -> Path:
        target = self.data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, target)
        return target

    def unlink(self, relative: str | None) -> None:
        if relative is not None:
            unlink_quietly(self.data_dir / relative)

    def clear_dead_staging(self) -> int:
        """Staging files and pins of processes that no longer run are leftovers of a crash."""
        removed = 0
        for path in self.staging_dir.iterdir():
            holder = path.name.split(".", 1)[0]
            if not owner.alive(holder):
                unlink_quietly(path)
                removed += 1
        return removed


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
