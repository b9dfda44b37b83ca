"""What a preview is made from: an original, or an image-converter output.

A preview URL's `<source>` is `<bucket>/<key>` or `image-converter/...`. Parsing it gives a
`SourceRef`. Previews depend on the `Converter` protocol only; the composition root hands
them the image converter that implements it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from proxy.cache import Entry

CONVERTER_PREFIX = "image-converter/"


@dataclass(frozen=True)
class SourceRef:
    bucket: str
    key: str
    converter: str | None = None  # None: the original; else "convert" or "videoframe"
    args: tuple[tuple[str, str], ...] = ()  # canonical converter parameters, sorted

    @property
    def origin(self) -> str:
        """The original this source derives from: what a purge of that original must drop."""
        return f"{self.bucket}/{self.key}"

    def canonical(self) -> str:
        """A stable identity for cache keys; equal for equivalent spellings."""
        if self.converter is None:
            return self.origin
        params = "&".join(f"{k}={v}" for k, v in self.args)
        return f"{CONVERTER_PREFIX}{self.converter}/{self.origin}?{params}"


class Converter(Protocol):
    """What previews need of the image converter (`proxy.converter.feature`)."""

    def parse(self, path: str, query: Mapping[str, str]) -> SourceRef:
        """`path` is what follows `image-converter/`; raises ProxyError subclasses."""
        ...

    async def entry(self, ref: SourceRef) -> Entry:
        """The converted body, complete, through the image-converter cache."""
        ...
