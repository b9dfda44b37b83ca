"""`python -m proxy cache stats|purge|warm`: look after the caches, safely while serving.

Stats and purge work on the on-disk indexes directly (SQLite serializes them with the
running workers); warm asks the running server over HTTP, so it fills the caches through
exactly the path a client would.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from proxy.cache.index import Index, unlink_quietly
from proxy.settings import CACHE_NAMES, Settings
from proxy.units import format_size

# Dropping an original must drop what was made from it.
CASCADE = {"storage": CACHE_NAMES, "image_converter": ("image_converter", "previews")}


def cache_stats(settings: Settings) -> list[dict[str, object]]:
    rows = []
    for name, cfg in settings.caches.items():
        index = Index(cfg.path)
        try:
            size, entries = index.totals()
            oldest = index.oldest_access()
        finally:
            index.close()
        rows.append(
            {"cache": name, "entries": entries, "bytes": size, "bound": cfg.size, "oldest": oldest}
        )
    return rows


def format_stats(rows: Iterable[dict[str, object]]) -> str:
    lines = [f"{'cache':<16}{'entries':>10}{'size':>14}{'bound':>14}  oldest entry (last read)"]
    now = time.time()
    for row in rows:
        oldest = row["oldest"]
        age = "-" if oldest is None else f"{(now - float(oldest)) / 3600:.1f} h ago"  # type: ignore[arg-type]
        lines.append(
            f"{row['cache']!s:<16}{row['entries']!s:>10}"
            f"{format_size(float(row['bytes'])):>14}{format_size(float(row['bound'])):>14}  {age}"  # type: ignore[arg-type]
        )
    return "\n".join(lines)


def purge(settings: Settings, cache: str | None, prefix: str) -> dict[str, int]:
    """Remove entries whose source starts with `prefix` (bucket/key-prefix; "" = all)."""
    names = CACHE_NAMES if cache is None else CASCADE.get(cache, (cache,))
    removed: dict[str, int] = {}
    for name in names:
        cfg = settings.caches[name]
        index = Index(cfg.path)
        try:
            dropped = index.remove_source_prefix(prefix)
        finally:
            index.close()
        for item in dropped:
            if item.file:
                unlink_quietly(cfg.path / "data" / item.file)
        removed[name] = len(dropped)
    return removed
