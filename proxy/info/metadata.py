"""EXIF, IPTC and XMP of a decoded header, as the JSON objects imgproxy's `/info` answers.

libvips has already parsed EXIF (its `exif-ifdN-Name` fields carry the value and libexif's
human-readable rendering of it); IPTC-IIM comes as the Photoshop resource block and XMP as
the packet, both read here without ever following a reference out of them.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import pyvips

from proxy.previews.copyright import IPTC_RESOURCE, RDF, iptc_records, photoshop_resources

_EXIF_FIELD = re.compile(r"exif-ifd\d-(.+)")
# libvips writes "value (rendering, Type, N components, M bytes)".
_EXIF_VALUE = re.compile(r"^(.*?) \((.*), [A-Za-z]+, \d+ components?, \d+ bytes\)$", re.DOTALL)
_STRINGS = (pyvips.GValue.gstr_type, pyvips.GValue.refstr_type)
MAX_TEXT = 1024  # a value longer than this is cut: JSON for a page, not a dump

# IPTC-IIM application record (2) datasets, by their standard names.
IPTC_NAMES = {
    5: "Name",
    7: "Edit Status",
    10: "Urgency",
    15: "Category",
    20: "Supplemental Category",
    25: "Keywords",
    40: "Special Instructions",
    55: "Date Created",
    60: "Time Created",
    80: "By-line",
    85: "By-line Title",
    90: "City",
    92: "Sub-location",
    95: "Province-State",
    100: "Country Code",
    101: "Country Name",
    103: "Original Transmission Reference",
    105: "Headline",
    110: "Credit",
    115: "Source",
    116: "Copyright Notice",
    118: "Contact",
    120: "Caption",
    122: "Writer-Editor",
}
REPEATABLE = frozenset({20, 25, 80, 85, 118, 122})
PHOTOSHOP_RESOLUTION = b"\x03\xed"
UNITS = {1: "inches", 2: "cm", 3: "points", 4: "picas", 5: "columns"}


def _text(value: str) -> str:
    return value[:MAX_TEXT]


def exif(image: pyvips.Image) -> dict[str, str]:
    """Tag name -> its human-readable value (libexif's rendering, else the raw value)."""
    out: dict[str, str] = {}
    for name in image.get_fields():
        match = _EXIF_FIELD.fullmatch(name)
        if match is None or image.get_typeof(name) not in _STRINGS:
            continue
        raw = str(image.get(name))
        parts = _EXIF_VALUE.match(raw)
        value = raw
        if parts is not None:
            plain, rendered = parts.groups()
            value = rendered if rendered and not rendered.startswith("Internal error") else plain
        out.setdefault(match.group(1), _text(value.strip()))
    return out


def _blob(image: pyvips.Image, name: str) -> bytes | None:
    if not image.get_typeof(name):
        return None
    return bytes(image.get(name))


def iptc(image: pyvips.Image) -> tuple[dict[str, Any], dict[str, Any]]:
    """(IPTC datasets by name, Photoshop resolution info) of the image's Photoshop block."""
    data = _blob(image, "iptc-data")
    records: dict[str, Any] = {}
    photoshop: dict[str, Any] = {}
    if data is None:
        return records, photoshop
    for resource, block in photoshop_resources(data):
        if resource == IPTC_RESOURCE:
            for record, tag, _, start, end in iptc_records(block):
                name = IPTC_NAMES.get(tag)
                if record != 2 or name is None:
                    continue
                value = _text(block[start:end].decode("utf-8", errors="replace"))
                if tag in REPEATABLE:
                    records.setdefault(name, []).append(value)
                else:
                    records.setdefault(name, value)
        elif resource == PHOTOSHOP_RESOLUTION and len(block) >= 16:
            photoshop["resolution"] = _resolution(block)
    return records, photoshop


def _resolution(block: bytes) -> dict[str, Any]:
    """Photoshop's ResolutionInfo: 16.16 fixed-point resolutions and their units."""
    x = int.from_bytes(block[0:4], "big") / 65536
    y = int.from_bytes(block[8:12], "big") / 65536
    unit = {1: "inches", 2: "cm"}
    return {
        "XResolution": round(x, 3),
        "XResolutionUnit": unit.get(int.from_bytes(block[4:6], "big"), "unknown"),
        "WidthUnit": UNITS.get(int.from_bytes(block[6:8], "big"), "unknown"),
        "YResolution": round(y, 3),
        "YResolutionUnit": unit.get(int.from_bytes(block[12:14], "big"), "unknown"),
        "HeightUnit": UNITS.get(int.from_bytes(block[14:16], "big"), "unknown"),
    }


def xmp(image: pyvips.Image) -> dict[str, dict[str, Any]]:
    """XMP properties grouped by their namespace prefix: {"dc": {"creator": [...]}}."""
    data = _blob(image, "xmp-data")
    if data is None or b"<!ENTITY" in data or b"<!DOCTYPE" in data:
        return {}  # entity declarations have no place in metadata
    prefixes: dict[str, str] = {}
    try:
        events = ET.iterparse(io.BytesIO(data.rstrip(b"\x00")), events=("start-ns", "end"))
        root = None
        for event, item in events:
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(uri, prefix)
            else:
                root = item
    except ET.ParseError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    if root is None:
        return out
    for description in root.iter(f"{{{RDF}}}Description"):
        for name, value in description.attrib.items():
            _put(out, prefixes, name, _text(value))
        for child in description:
            _put(out, prefixes, child.tag, _value(child))
    return out


def _put(out: dict[str, dict[str, Any]], prefixes: dict[str, str], tag: str, value: Any) -> None:
    if not tag.startswith("{"):
        return
    uri, _, local = tag[1:].partition("}")
    if uri == RDF:
        return
    out.setdefault(prefixes.get(uri, uri), {}).setdefault(local, value)


def _value(element: ET.Element) -> Any:
    """A property's value: text, a list (rdf:Seq, rdf:Bag), the first of an rdf:Alt."""
    for container in ("Seq", "Bag", "Alt"):
        found = element.find(f"{{{RDF}}}{container}")
        if found is not None:
            items = [_text((li.text or "").strip()) for li in found.findall(f"{{{RDF}}}li")]
            return (items[0] if items else "") if container == "Alt" else items
    resource = element.get(f"{{{RDF}}}resource")
    return _text(resource if resource is not None else (element.text or "").strip())
