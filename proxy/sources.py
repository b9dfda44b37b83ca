"""What a preview is made from: an original, or an image-converter output.

A preview URL's `<source>` is `<bucket>/<key>` or `image-converter/...`. Parsing it gives a
`SourceRef`; `load_source` returns the complete source body through the right cache. This is
the single place where previews and the image converter meet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from proxy.cache import Entry

if TYPE_CHECKING:
    from proxy.web.services import Services

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
    """Implemented by the image converter (proxy.converter), registered in Services.extras."""

    def parse(self, path: str, query: Mapping[str, str]) -> SourceRef:
        """`path` is what follows `image-converter/`; raises ProxyError subclasses."""
        ...

    async def entry(self, ref: SourceRef) -> Entry:
        """The converted body, complete, through the image-converter cache."""
        ...


CONVERTER = "converter"  # key in Services.extras


def converter_of(svc: Services) -> Converter | None:
    return svc.extras.get(CONVERTER)
