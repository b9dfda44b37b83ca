"""What a file is, from its first bytes: extensions and stored content types lie.

The one sniffer: previews, the converter and the originals route all ask it.
"""

from __future__ import annotations

import struct
import xml.parsers.expat
from dataclasses import dataclass

HEAD_SIZE = 64 * 1024  # enough to find an MPO's MPF segment among the JPEG headers


@dataclass(frozen=True)
class Detected:
    kind: str  # short name: jpeg, png, tiff, heif, mp4, unknown, ...
    mime: str

    @property
    def browser_viewable(self) -> bool:
        return self.kind in BROWSER_FORMATS

    @property
    def format(self) -> str | None:
        """Its name among the formats a preview can be, if it is one of them."""
        return PREVIEW_FORMATS.get(self.kind)


BROWSER_FORMATS = {"jpeg", "png", "gif", "webp", "avif"}
# Kinds a preview can be made from, by imgproxy's name for them.
PREVIEW_FORMATS = {
    **{f: f for f in (*BROWSER_FORMATS, "tiff", "bmp", "ico", "jxl", "svg")},
    "mpo": "jpeg",
    "heif": "heic",
}
# The containers FFmpeg is asked to open: anything else is refused before it sees a byte.
VIDEO_CONTAINERS = frozenset(
    {"mp4", "mov", "matroska", "avi", "mpeg", "mpegts", "flv", "asf", "ogg"}
)
SVG = Detected("svg", "image/svg+xml")
UNKNOWN = Detected("unknown", "application/octet-stream")

_PREFIXES: tuple[tuple[bytes, Detected], ...] = (
    (b"\x89PNG\r\n\x1a\n", Detected("png", "image/png")),
    (b"GIF87a", Detected("gif", "image/gif")),
    (b"GIF89a", Detected("gif", "image/gif")),
    (b"II*\x00", Detected("tiff", "image/tiff")),
    (b"MM\x00*", Detected("tiff", "image/tiff")),
    (b"II+\x00", Detected("tiff", "image/tiff")),
    (b"MM\x00+", Detected("tiff", "image/tiff")),
    (b"NRRD000", Detected("nrrd", "image/x-nrrd")),
    (b"BM", Detected("bmp", "image/bmp")),
    (b"\x1aE\xdf\xa3", Detected("matroska", "video/webm")),
    (b"%PDF", Detected("pdf", "application/pdf")),
    (b"PK\x03\x04", Detected("zip", "application/zip")),
    (b"\x1f\x8b", Detected("gzip", "application/gzip")),
    (b"8BPS", Detected("psd", "image/vnd.adobe.photoshop")),
    (b"\xff\x0a", Detected("jxl", "image/jxl")),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", Detected("jxl", "image/jxl")),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", Detected("jp2", "image/jp2")),
    (b"\x00\x00\x01\x00", Detected("ico", "image/x-icon")),
    (b"ID3", Detected("mp3", "audio/mpeg")),
    (b"OggS", Detected("ogg", "application/ogg")),
    (b"\x00\x00\x01\xba", Detected("mpeg", "video/mpeg")),
    (b"FLV\x01", Detected("flv", "video/x-flv")),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", Detected("asf", "video/x-ms-asf")),
)

_RIFF = {
    b"WEBP": Detected("webp", "image/webp"),
    b"AVI ": Detected("avi", "video/x-msvideo"),
    b"WAVE": Detected("wav", "audio/wav"),
}

_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_VIDEO = {b"qt  ": Detected("mov", "video/quicktime")}
_MP4 = Detected("mp4", "video/mp4")


def sniff(head: bytes) -> Detected:
    """The type of a file whose first bytes (up to HEAD_SIZE) are `head`."""
    if head[4:8] == b"ftyp":
        return _iso_media(head)
    if head.startswith(b"\xff\xd8\xff"):
        return Detected("mpo", "image/mpo") if _has_mpf(head) else Detected("jpeg", "image/jpeg")
    for prefix, detected in _PREFIXES:
        if head.startswith(prefix):
            return detected
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return Detected("mpegts", "video/mp2t")  # 188-byte packets, each with its sync byte
    if _is_svg(head):
        return SVG
    return _markup(head)


_HTML = Detected("html", "text/html")
_XML = Detected("xml", "application/xml")
_MARKUP_SKIP = (b"<?xml", b"<!--", b"<!doctype")


def _markup(head: bytes) -> Detected:
    """HTML or other XML (an SVG is found before): text a browser might run, found past a BOM,
    whitespace, the XML declaration, comments and a doctype."""
    text = head[:4096].removeprefix(b"\xef\xbb\xbf").lower()
    for _ in range(16):
        text = text.lstrip()
        if text.startswith((b"<html", b"<!doctype html", b"<head", b"<body", b"<script")):
            return _HTML
        end = b"-->" if text.startswith(b"<!--") else b">"
        if not text.startswith(_MARKUP_SKIP) or end not in text:
            break
        text = text[text.index(end) + len(end) :]
    return _XML if head.lstrip().startswith(b"<?xml") else UNKNOWN


class _NotSvg(Exception):
    pass


class _Svg(Exception):
    pass


def _is_svg(head: bytes) -> bool:
    """imgproxy's rule (imagetype/svg.go): XML with an `svg` element (any prefix) in it."""
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False  # not XML: skip the parser for the common case

    def start(name: str, attributes: object) -> None:
        if name.rpartition(":")[2] == "svg":
            raise _Svg

    def declaration(*args: object) -> None:
        raise _NotSvg  # entity declarations are how XML bombs start: not an image of ours

    parser = xml.parsers.expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EntityDeclHandler = declaration
    try:
        parser.Parse(head, False)
    except _Svg:
        return True
    except (_NotSvg, xml.parsers.expat.ExpatError):
        return False
    return False


def _iso_media(head: bytes) -> Detected:
    """An ISO base media file: HEIF/AVIF images and MP4/MOV videos share the `ftyp` box."""
    size = struct.unpack(">I", head[:4])[0]
    major = head[8:12]
    brands = {major} | {head[i : i + 4] for i in range(16, min(size, len(head), 256), 4)}
    if major in _AVIF_BRANDS or (major in _HEIF_BRANDS and brands & _AVIF_BRANDS):
        return Detected("avif", "image/avif")
    if brands & _HEIF_BRANDS:
        return Detected("heif", "image/heic")
    return _VIDEO.get(major, _MP4)


def _has_mpf(head: bytes) -> bool:
    """A JPEG whose APP2 segment is "MPF": a multi-picture (stereo / burst) file."""
    pos = 2
    while pos + 4 <= len(head) and head[pos] == 0xFF:
        marker = head[pos + 1]
        if marker in (0xDA, 0xD9):  # start of scan / end of image: no more headers
            return False
        length = struct.unpack(">H", head[pos + 2 : pos + 4])[0]
        if marker == 0xE2 and head[pos + 4 : pos + 8] == b"MPF\x00":
            return True
        pos += 2 + length
    return False
