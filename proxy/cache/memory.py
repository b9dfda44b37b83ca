"""A small per-process memory tier in front of the disk caches, for hot small entries.

A hit here skips the index query, the open, the fstat and the read. The disk index stays
the truth: each remembered entry is re-checked against it at most once per RECHECK
seconds, so a purge or an eviction by another process is seen within that time.

The three caches of a process share one tier, each in a space of its own: one bound
(`CACHE_MEMORY_SIZE`) an operator can count once per process in the memory plan, and
whichever cache is hot at the moment gets the room.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from proxy.cache.entry import Entry, Meta

RECHECK = 1.0
# Bodies up to this size are read whole, checked on every read, and kept in the memory tier.
MEMORY_MAX_ENTRY = 256 * 1024


@dataclass
class Remembered:
    meta: Meta
    body: bytes
    stored: float  # the index row's stored time: a replaced entry has another
    checked: float  # when it was last confirmed against the index
    touched: float  # when the index last heard of a read
    origin: str  # the original it was made from
    version: str | None  # the original's version it was made from
    handed: Entry | None = None  # what hits hand out, made once


class MemoryTier:
    def __init__(self, capacity: int, max_entry: int = MEMORY_MAX_ENTRY) -> None:
        self.capacity = capacity
        self.max_entry = max_entry
        self.recheck = RECHECK
        self.used = 0
        self._items: OrderedDict[str, Remembered] = OrderedDict()

    def get(self, key: str) -> Remembered | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: str, item: Remembered) -> None:
        if len(item.body) > self.max_entry or self.capacity <= 0:
            return
        self.discard(key)
        self._items[key] = item
        self.used += len(item.body)
        while self.used > self.capacity and self._items:
            _, oldest = self._items.popitem(last=False)
            self.used -= len(oldest.body)

    def discard(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.used -= len(item.body)

    def clear(self) -> None:
        self._items.clear()
        self.used = 0

    def space(self, name: str) -> MemorySpace:
        return MemorySpace(self, name)

    def clear_prefix(self, prefix: str) -> None:
        for key in [k for k in self._items if k.startswith(prefix)]:
            self.discard(key)


class MemorySpace:
    """One cache's part of a shared tier: its keys, under the tier's one bound."""

    def __init__(self, tier: MemoryTier, name: str) -> None:
        self.tier = tier
        self.prefix = name + "\0"  # no cache name holds a NUL, so no two spaces share a key
        self.recheck = RECHECK

    @property
    def capacity(self) -> int:
        return self.tier.capacity

    @capacity.setter
    def capacity(self, value: int) -> None:
        self.tier.capacity = value

    def get(self, key: str) -> Remembered | None:
        return self.tier.get(self.prefix + key)

    def put(self, key: str, item: Remembered) -> None:
        self.tier.put(self.prefix + key, item)

    def discard(self, key: str) -> None:
        self.tier.discard(self.prefix + key)

    def clear(self) -> None:
        self.tier.clear_prefix(self.prefix)
