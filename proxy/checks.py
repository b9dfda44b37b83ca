"""`python -m proxy check`: can this configuration serve? One line per problem."""

from __future__ import annotations

import os

from proxy.settings import Settings
from proxy.storage import StorageError, create_storage


async def run_checks(settings: Settings) -> list[str]:
    problems: list[str] = []
    if settings.storage.provider == "http" and not settings.storage.buckets:
        problems.append(f"http: no buckets: no folders under {settings.storage.root}")
    storage = create_storage(settings.storage)
    try:
        await storage.start()
        problems.extend(await storage.probe())
    except StorageError as exc:
        problems.append(f"{settings.storage.provider}: {exc}")
    finally:
        await storage.close()
    for cache in settings.caches.values():
        problems.extend(_writable(cache.path, f"cache {cache.name}"))
    return problems


def _writable(path: os.PathLike[str], what: str) -> list[str]:
    target = os.fspath(path)
    probe = target
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.access(probe, os.W_OK):
        return [f"{what}: {target} is not writable"]
    return []
