"""GET /health and GET /metrics."""

from __future__ import annotations

import asyncio
import os
import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from proxy.metrics_export import render_metrics
from proxy.web.services import Services, services

# Probing a remote store costs a request: one probe answers /health for this long.
PROBE_TTL = 10.0


class HealthCheck:
    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._probed_at = -PROBE_TTL
        self._storage_problems: list[str] = []
        self._lock = asyncio.Lock()

    async def storage_problems(self) -> list[str]:
        async with self._lock:
            if time.monotonic() - self._probed_at >= PROBE_TTL:
                self._storage_problems = await self.svc.storage.probe()
                self._probed_at = time.monotonic()
        return self._storage_problems

    def cache_problems(self) -> dict[str, str]:
        problems = {}
        for name, cache in self.svc.caches.items():
            if not os.access(cache.staging_dir, os.W_OK) or not os.access(cache.data_dir, os.W_OK):
                problems[name] = f"{cache.directory} is not writable"
        return problems

    async def report(self) -> tuple[bool, dict[str, object]]:
        storage = await self.storage_problems()
        caches = self.cache_problems()
        checks: dict[str, object] = {
            "storage": "; ".join(storage) or "ok",
            "caches": {name: caches.get(name, "ok") for name in self.svc.caches},
        }
        for name, check in self.svc.extras.get("health_checks", {}).items():
            checks[name] = check() or "ok"
        healthy = (
            not storage
            and not caches
            and all(v == "ok" for k, v in checks.items() if k not in ("storage", "caches"))
        )
        return healthy, {"status": "ok" if healthy else "unavailable", **checks}


HEALTH = web.AppKey("health", HealthCheck)


async def health(request: web.Request) -> web.Response:
    healthy, report = await request.app[HEALTH].report()
    return web.json_response(report, status=200 if healthy else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    svc = services(request)
    for cache in svc.caches.values():
        cache.publish_size()
    body = await asyncio.to_thread(render_metrics)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
