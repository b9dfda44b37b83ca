"""Disk caches: one class, three instances (storage, previews, image_converter)."""

from proxy.cache.cache import Cache, Fill, Passthrough, Result, Tail
from proxy.cache.entry import Entry, Meta

__all__ = ["Cache", "Entry", "Fill", "Meta", "Passthrough", "Result", "Tail"]
