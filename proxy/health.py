"""What `/health` reports: can this process serve? Caches, buckets and named extra checks;
and, apart, whether the store answers.

A node whose store is down still serves every cached original, preview and conversion (and
answers the rest with its own 502 or 504), so the store's state does not make it unhealthy:
a balancer that took every node out during a store outage would hide exactly the copies
that stale serving exists for. The store's state is in the report (`storage`), in the metric
`proxy_store_up` and on its own path (`/health/store`), for alerting.

The web layer only renders the reports; what they mean is decided here, from explicit
dependencies, so `python -m proxy check` and `/health` can agree.
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
                metrics.STORE_UP.set(0 if self._storage_problems else 1)
        return self._storage_problems

    def cache_problems(self) -> dict[str, str]:
        problems = {}
        for cache in self.caches:
            if not os.access(cache.staging_dir, os.W_OK) or not os.access(cache.data_dir, os.W_OK):
                problems[cache.name] = f"{cache.directory} is not writable"
        return problems

    async def report(self) -> Report:
        """Can this node serve? Not while it serves no bucket, cannot write a cache or render;
        the store being down is reported, not counted."""
        store = await self.storage_problems()
        buckets = bucket_problems(self.storage.settings)
        caches = self.cache_problems()
        extra = {name: check() or "ok" for name, check in self.checks.items()}
        checks: dict[str, object] = {
            "node": self.node,
            "buckets": "; ".join(buckets) or "ok",
            "storage": "; ".join(store) or "ok",
            "caches": {cache.name: caches.get(cache.name, "ok") for cache in self.caches},
            **extra,
        }
        fallbacks = internals.fallbacks()
        if fallbacks:  # a warning, not a problem: the public paths serve the same answers
            checks["fallbacks"] = fallbacks
        healthy = not buckets and not caches and all(v == "ok" for v in extra.values())
        return Report(healthy, checks)

    async def store_report(self) -> Report:
        """Does the store answer, for each bucket? (`/health/store`, for alerting.)"""
        store = await self.storage_problems()
        return Report(not store, {"node": self.node, "storage": "; ".join(store) or "ok"})
