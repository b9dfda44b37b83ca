"""What keep_copyright keeps of IPTC and XMP (imgproxy's processing/strip_metadata.go).

IPTC: in the Photoshop resource block, only the By-line (2:80), Credit (2:110) and
Copyright notice (2:116) of the application record stay (other records stay too).
XMP: only Dublin Core's rights, contributor, creator and publisher, and the xmpRights and
Creative Commons namespaces. Anything that does not parse is dropped, never kept whole.
"""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator

PS3_HEADER = b"Photoshop 3.0\x00"
IPTC_RESOURCE = b"\x04\x04"
KEPT_TAGS = frozenset({80, 110, 116})  # of record 2

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DC = "http://purl.org/dc/elements/1.1/"
KEPT_XMP = {
    DC: frozenset({"rights", "contributor", "creator", "publisher"}),
    "http://ns.adobe.com/xap/1.0/rights/": None,  # None: the whole namespace
    "http://creativecommons.org/ns#": None,
}
for _prefix, _uri in (("x", "adobe:ns:meta/"), ("rdf", RDF), ("dc", DC)):
    ET.register_namespace(_prefix, _uri)
ET.register_namespace("xmpRights", "http://ns.adobe.com/xap/1.0/rights/")
ET.register_namespace("cc", "http://creativecommons.org/ns#")


def iptc_records(data: bytes) -> Iterator[tuple[int, int, int, int, int]]:
    """(record, tag, start of the record, start of its value, end) of IPTC-IIM datasets."""
    pos = 0
    while pos + 5 <= len(data):
        if data[pos] != 0x1C:
            pos += 1
            continue
        record, tag, size = data[pos + 1], data[pos + 2], struct.unpack_from(">H", data, pos + 3)[0]
        start = pos + 5
        if size & 0x8000:  # an extended size: its length in bytes follows
            width = size & 0x7FFF
            if width not in (4, 8) or start + width > len(data):
                return
            size = int.from_bytes(data[start : start + width], "big")
            start += width
        end = start + size
        if end > len(data):
            return
        yield record, tag, pos, start, end
        pos = end


def _iptc_records(data: bytes) -> bytes:
    out = bytearray()
    for record, tag, pos, _, end in iptc_records(data):
        if record != 2 or tag in KEPT_TAGS:
            out += data[pos:end]
    return bytes(out)


def photoshop_resources(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(resource id, block) of a Photoshop 3.0 resource block (libvips's `iptc-data`)."""
    if not data.startswith(PS3_HEADER):
        return
    pos = len(PS3_HEADER)
    while pos + 12 <= len(data):
        if data[pos : pos + 4] != b"8BIM":
            pos += 1
            continue
        resource = data[pos + 4 : pos + 6]
        name_length = data[pos + 6]
        pos += 6 + (name_length + 2) // 2 * 2  # a padded Pascal string
        if pos + 4 > len(data):
            return
        size = struct.unpack_from(">I", data, pos)[0]
        yield resource, data[pos + 4 : pos + 4 + size]
        pos += 4 + size + size % 2


def filter_iptc(data: bytes) -> bytes | None:
    """The Photoshop block with only the copyright IPTC records, or None if none is left."""
    kept = b""
    for resource, block in photoshop_resources(data):
        if resource == IPTC_RESOURCE:
            kept = _iptc_records(block)
    if not kept:
        return None
    pad = b"\x00" * (len(kept) % 2)
    return (
        PS3_HEADER
        + b"8BIM"
        + IPTC_RESOURCE
        + b"\x00\x00"
        + struct.pack(">I", len(kept))
        + kept
        + pad
    )


def _kept(tag: str) -> bool:
    uri, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if uri not in KEPT_XMP:
        return False
    names = KEPT_XMP[uri]
    return names is None or local in names


def filter_xmp(data: bytes) -> bytes | None:
    """The XMP packet with only the copyright properties, or None if none is left."""
    if b"<!ENTITY" in data:
        return None  # entity declarations have no place in metadata
    try:
        root = ET.fromstring(data.rstrip(b"\x00"))
    except ET.ParseError:
        return None
    found = False
    for description in root.iter(f"{{{RDF}}}Description"):
        for name in [a for a in description.attrib if not a.startswith(f"{{{RDF}}}")]:
            if _kept(name):
                found = True
            else:
                del description.attrib[name]
        for child in list(description):
            if _kept(child.tag):
                found = True
            else:
                description.remove(child)
    return ET.tostring(root, encoding="utf-8") if found else None
