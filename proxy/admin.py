"""`python -m proxy cache stats|purge`: look after the caches, safely while serving.

Both work on the caches' on-disk indexes through the same `Cache` code the server runs
(SQLite serializes them with the running workers), so there is one purge, not two.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from proxy.cache.caches import Caches
from proxy.settings import Settings
from proxy.units import format_size


def cache_stats(settings: Settings) -> list[dict[str, Any]]:
    caches = Caches.open(settings)
    try:
        return [cache.stats() for cache in caches]
    finally:
        caches.close_offline()


def format_stats(rows: Iterable[dict[str, Any]]) -> str:
    lines = [
        f"{'cache':<16}{'entries':>10}{'bodies':>14}{'index':>12}{'bound':>14}"
        "  oldest entry (last read)"
    ]
    now = time.time()
    for row in rows:
        oldest = row["oldest_access"]
        age = "-" if oldest is None else f"{(now - float(oldest)) / 3600:.1f} h ago"
        lines.append(
            f"{row['cache']!s:<16}{row['entries']!s:>10}{format_size(float(row['bytes'])):>14}"
            f"{format_size(float(row['index_bytes'])):>12}{format_size(float(row['bound'])):>14}"
            f"  {age}"
        )
    return "\n".join(lines)


def check(settings: Settings, *, fix: bool) -> tuple[list[str], bool]:
    """`cache check [--fix]`: one line per cache, and whether all were (or are now) sound."""
    caches = Caches.open(settings)
    try:
        reports = caches.check(fix=fix)
    finally:
        caches.close_offline()
    lines = [line for report in reports for line in report.lines()]
    return lines, fix or all(report.clean for report in reports)


def purge(settings: Settings, cache: str | None, prefix: str) -> dict[str, int]:
    """Remove entries whose original starts with `prefix` (bucket/key-prefix; "" = all)."""
    caches = Caches.open(settings)
    try:
        return caches.purge(prefix, only=cache)
    finally:
        caches.close_offline()
