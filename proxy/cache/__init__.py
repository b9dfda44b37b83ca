"""Disk caches: one class, three instances (storage, previews, image_converter)."""

from proxy.cache.cache import Body, Cache, Fill, Maker, MetaOnly, Passthrough, Result, Tail
from proxy.cache.entry import Entry, Meta

__all__ = [
    "Body",
    "Cache",
    "Entry",
    "Fill",
    "Maker",
    "Meta",
    "MetaOnly",
    "Passthrough",
    "Result",
    "Tail",
]
