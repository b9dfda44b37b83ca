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

from proxy import internals, metrics
from proxy.cache.caches import Caches
from proxy.settings import StorageSettings
from proxy.storage import Storage
from proxy.storage.errors import CLIENT_KINDS

# Probing a remote store costs a request: one good probe answers /health for this long...
PROBE_TTL = 10.0
# ...and a failed one for only this long, so a store that is back is seen as such promptly.
FAILED_PROBE_TTL = 1.0

Check = Callable[[], str]  # "" when fine, else the problem


@dataclass(frozen=True)
class Report:
    healthy: bool
    checks: dict[str, object]

    def as_json(self) -> dict[str, object]:
        return {"status": "ok" if self.healthy else "unavailable", **self.checks}


def bucket_problems(settings: StorageSettings) -> list[str]:
    """A proxy that serves no bucket answers 404 to everything: it cannot serve."""
    if settings.buckets:
        return []
    return [
        f"{settings.provider}: no buckets: set STORAGE_BUCKETS, or add folders under "
        f"{settings.root}"
    ]


def store_failures(provider: str) -> float:
    """This process's failed storage requests that say something about the store itself."""
    total = 0.0
    for family in metrics.STORAGE_ERRORS.collect():
        for sample in family.samples:
            labels = sample.labels
            if labels.get("provider") == provider and labels.get("kind") not in CLIENT_KINDS:
                total += sample.value
    return total


class Health:
    def __init__(
        self,
        storage: Storage,
        caches: Caches,
        checks: Mapping[str, Check],
        clock: Callable[[], float] = time.monotonic,
        node: str = "",
    ) -> None:
        self.storage = storage
        self.caches = caches
        self.checks = dict(checks)
        self.clock = clock
        self.node = node  # which node of a cluster answered
        self._probed_at = -PROBE_TTL
        self._storage_problems: list[str] = []
        self._failures_seen = store_failures(storage.provider)
        self._lock = asyncio.Lock()

    async def storage_problems(self) -> list[str]:
        async with self._lock:
            ttl = FAILED_PROBE_TTL if self._storage_problems else PROBE_TTL
            # A request that the store failed since the last probe makes its "ok" stale.
            failures = store_failures(self.storage.provider)
            if self.clock() - self._probed_at >= ttl or failures != self._failures_seen:
                self._failures_seen = failures
                self._storage_problems = bucket_problems(self.storage.settings)
                self._storage_problems += await self.storage.probe()
                self._probed_at = self.clock()
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
        fallbacks = internals.fallbacks()
        if fallbacks:  # a warning, not a problem: the public paths serve the same answers
            checks["fallbacks"] = fallbacks
        healthy = not storage and not caches and all(v == "ok" for v in extra.values())
        return Report(healthy, checks)
