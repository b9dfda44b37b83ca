"""Disk caches: one class, three instances (storage, previews, image_converter)."""

from proxy.cache.cache import Cache, Result
from proxy.cache.entry import Entry, Meta
from proxy.cache.results import Fill, Maker, MetaOnly, Passthrough
from proxy.cache.tail import Tail

# What the web layer can deliver: every result, or only the headers.
Body = Result | MetaOnly

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
