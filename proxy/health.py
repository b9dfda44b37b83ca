"""What `/health` reports: can this process serve? Storage, caches, and named extra checks.

The web layer only renders the report; what "able to serve" means is decided here, from
explicit dependencies, so `python -m proxy check` and `/health` can agree.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from proxy.cache.caches import Caches
from proxy.storage import Storage

# Probing a remote store costs a request: one probe answers /health for this long.
PROBE_TTL = 10.0

Check = Callable[[], str]  # "" when fine, else the problem


@dataclass(frozen=True)
class Report:
    healthy: bool
    checks: dict[str, object]

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.healthy else "unavailable", **self.checks}


class Health:
    def __init__(
        self, storage: Storage, caches: Caches, checks: Mapping[str, Check], node: str = ""
    ) -> None:
        self.storage = storage
        self.caches = caches
        self.checks = dict(checks)
        self.node = node  # which node of a cluster answered
        self._probed_at = -PROBE_TTL
        self._storage_problems: list[str] = []
        self._lock = asyncio.Lock()

    async def storage_problems(self) -> list[str]:
        async with self._lock:
            if time.monotonic() - self._probed_at >= PROBE_TTL:
                self._storage_problems = await self.storage.probe()
                self._probed_at = time.monotonic()
        return self._storage_problems

    def cache_problems(self) -> dict[str, str]:
        problems = {}
        for cache in self.caches:
            if not os.access(cache.staging_dir, os.W_OK) or not os.access(cache.data_dir, os.W_OK):
                problems[cache.name] = f"{cache.directory} is not writable"
        return problems

    async def report(self) -> Report:
        storage = await self.storage_problems()
        caches = self.cache_problems()
        extra = {name: check() or "ok" for name, check in self.checks.items()}
        checks: dict[str, object] = {
            "node": self.node,
            "storage": "; ".join(storage) or "ok",
            "caches": {cache.name: caches.get(cache.name, "ok") for cache in self.caches},
            **extra,
        }
        healthy = not storage and not caches and all(v == "ok" for v in extra.values())
        return Report(healthy, checks)
