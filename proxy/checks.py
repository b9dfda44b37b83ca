"""`python -m proxy check`: could `serve` start with this configuration and report itself healthy?

It asks what `/health` asks (proxy/health.py decides what "able to serve" means): are there
buckets, does the store answer for each of them, are the caches writable, does libvips load.
It only looks: what `serve` would do at start (create the folders of the local provider's
configured buckets) is reported as a note, not done.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from proxy.health import bucket_problems
from proxy.previews.health import libvips_problem
from proxy.settings import Settings
from proxy.storage import StorageError, create_storage
from proxy.storage.local import missing_bucket_folders


async def run_checks(settings: Settings) -> list[str]:
    """One line per problem; [] when the proxy could serve."""
    storage_settings = settings.storage
    problems = bucket_problems(storage_settings)
    if storage_settings.provider == "http":
        missing = missing_bucket_folders(storage_settings)
        for path in missing:
            blocked = _not_writable(path)
            if blocked:
                problems.append(
                    f"http: bucket folder {path} is missing and cannot be created: "
                    f"{blocked} is not writable"
                )
        # The folders serve would create are not probed: they would be there, and empty.
        names = {path.name for path in missing}
        buckets = tuple(b for b in storage_settings.buckets if b not in names)
        storage_settings = dataclasses.replace(storage_settings, buckets=buckets)
    storage = create_storage(storage_settings)
    try:
        await storage.start()
        problems.extend(await storage.probe())
    except StorageError as exc:
        problems.append(f"{settings.storage.provider}: {exc}")
    finally:
        await storage.close()
    for cache in settings.caches.values():
        blocked = _not_writable(cache.path)
        if blocked == str(cache.path):
            problems.append(f"cache {cache.name}: {cache.path} is not writable")
        elif blocked:
            problems.append(
                f"cache {cache.name}: {cache.path} cannot be created: {blocked} is not writable"
            )
    libvips = libvips_problem()
    if libvips:
        problems.append(f"libvips: {libvips}")
    return problems


def start_notes(settings: Settings) -> list[str]:
    """What `serve` would change at start; said, not done, by `check`."""
    if settings.storage.provider != "http":
        return []
    return [
        f"http: bucket folder {path} does not exist; serve creates it at start"
        for path in missing_bucket_folders(settings.storage)
    ]


def _not_writable(path: Path) -> str:
    """ "" when `path` is writable or could be created; else the path that stops it (a
    folder that is not writable, or a file where a folder must be)."""
    probe = os.fspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    if not os.path.isdir(probe):
        return probe
    return "" if os.access(probe, os.W_OK) else probe
