"""SVG sources: sanitised as imgproxy sanitises them, then rasterised at the target scale.

The sanitiser follows imgproxy's processing/svg (v4): `<script>`, `<iframe>` and `<form>`
elements go, every `on*` (event handler) attribute goes, `<use>` may only point into the document,
`<image>` only to http(s), data: or relative resources, anything else only to http(s),
relative or in-document ones. Everything else is written back as it was (attribute order,
text, comments), so a clean SVG passes through byte for byte where it can.

libvips reads the sanitised text from memory, never from a path, so librsvg has no base
location against which to resolve a relative reference; entity declarations (XML bombs)
are refused.
"""

from __future__ import annotations

import html
import re
import xml.parsers.expat
from io import StringIO

import pyvips

from proxy.errors import Unprocessable

REMOVED_ELEMENTS = frozenset({"script", "iframe", "form"})
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
_LINK_SCHEMES = frozenset({"http", "https"})
_IMAGE_SCHEMES = frozenset({"http", "https", "data"})
# libvips renders at 72 dpi; SVG means 96 (imgproxy's vips_svgload_source_go does the same).
DPI = 96.0
BASE_SCALE = 72.0 / DPI


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def _safe_href(value: str, schemes: frozenset[str]) -> bool:
    value = html.unescape(value.strip())
    if not value or value.startswith("#"):
        return True
    scheme = _SCHEME.match(value)
    return scheme is None or scheme.group(0)[:-1].lower() in schemes


def _keep_attribute(element: str, name: str, value: str) -> bool:
    local = _local(name)
    if local[:2].lower() == "on":
        return False  # every event handler (imgproxy lists them; no SVG attribute is on*)
    if local != "href":
        return True
    if element == "use":
        return not value or value.startswith("#")
    return _safe_href(value, _IMAGE_SCHEMES if element == "image" else _LINK_SCHEMES)


def _attr(value: str) -> str:
    return html.escape(value, quote=True).replace("&#x27;", "'")


class _Writer:
    """Re-serialises expat events, dropping removed elements and their whole subtree."""

    def __init__(self) -> None:
        self.out = StringIO()
        self.skipping = 0  # depth inside a removed element
        self.pending = ""  # a start tag not yet closed: `>` or `/>` depends on what follows
        self.in_cdata = False

    def _flush(self) -> None:
        if self.pending:
            self.out.write(self.pending + ">")
            self.pending = ""

    def write(self, text: str) -> None:
        if not self.skipping:
            self._flush()
            self.out.write(text)

    def start(self, name: str, attributes: list[str]) -> None:
        local = _local(name)
        if self.skipping or local in REMOVED_ELEMENTS:
            self.skipping += 1
            return
        self._flush()
        pairs = zip(attributes[::2], attributes[1::2], strict=True)
        kept = "".join(f' {k}="{_attr(v)}"' for k, v in pairs if _keep_attribute(local, k, v))
        self.pending = f"<{name}{kept}"

    def end(self, name: str) -> None:
        if self.skipping:
            self.skipping -= 1
            return
        if self.pending:
            self.out.write(self.pending + "/>")
            self.pending = ""
        else:
            self.out.write(f"</{name}>")

    def text(self, data: str) -> None:
        # Inside CDATA, text is written raw: escaping it would change it.
        self.write(data if self.in_cdata else html.escape(data, quote=False))

    def cdata(self, starts: bool) -> None:
        self.in_cdata = starts
        self.write("<![CDATA[" if starts else "]]>")

    def declaration(self, version: str | None, encoding: str | None, standalone: int) -> None:
        parts = [f'version="{version or "1.0"}"']
        if encoding:
            parts.append('encoding="UTF-8"')  # what is written, whatever the source said
        if standalone != -1:
            parts.append(f'standalone="{"yes" if standalone else "no"}"')
        self.write(f"<?xml {' '.join(parts)}?>")

    def result(self) -> str:
        self._flush()
        return self.out.getvalue()


def _refuse(*args: object) -> None:
    raise Unprocessable("SVG with entity declarations is not rendered")


def _doctype(name: str, system_id: str | None, public_id: str | None, internal: int) -> None:
    # A plain <!DOCTYPE svg PUBLIC ...> (what editors write) is dropped; an internal
    # subset is where entity bombs live.
    if internal:
        _refuse()


def sanitise(data: bytes) -> bytes:
    """The SVG without scripts, event handlers and unsafe references (imgproxy's rules)."""
    writer = _Writer()
    parser = xml.parsers.expat.ParserCreate()
    parser.ordered_attributes = True
    parser.StartElementHandler = writer.start
    parser.EndElementHandler = writer.end
    parser.CharacterDataHandler = writer.text
    parser.CommentHandler = lambda text: writer.write(f"<!--{text}-->")
    parser.StartCdataSectionHandler = lambda: writer.cdata(True)
    parser.EndCdataSectionHandler = lambda: writer.cdata(False)
    parser.ProcessingInstructionHandler = lambda target, text: writer.write(f"<?{target} {text}?>")
    parser.XmlDeclHandler = writer.declaration
    # Whitespace around the root element reaches no other handler: keep it as it was.
    parser.DefaultHandlerExpand = lambda text: writer.write(text) if not text.strip() else None
    parser.StartDoctypeDeclHandler = _doctype
    parser.EntityDeclHandler = _refuse
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise Unprocessable(f"SVG is not well-formed XML: {exc}") from None
    return writer.result().encode()


def load(data: bytes, scale: float = 1.0) -> pyvips.Image:
    """The (sanitised) SVG rasterised at `scale` (1: one SVG pixel per output pixel)."""
    return pyvips.Image.svgload_buffer(
        data, dpi=DPI, scale=BASE_SCALE * scale, access="sequential", fail_on="error"
    )
