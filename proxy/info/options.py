"""Info options (`name:arg:arg` path segments), imgproxy's "Getting an image info" set.

Defaults follow imgproxy's: size, format, dimensions, EXIF, IPTC, XMP and the video's
metadata are on; everything that needs the pixels is off. `canonical()` is the cache key's
part for the options: equivalent spellings (`d:1`, `dimensions:true`) share one entry.
Every failure is a 400 that names the option.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from proxy.errors import BadRequest, Forbidden, NotFound
from proxy.previews.numbers import OptionError, boolean, integer, number
from proxy.previews.options import Crop, canonical_form
from proxy.previews.parse import INT64, PARSERS, Rules, Values

HASHSUMS = ("md5", "sha1", "sha256", "sha512")
MAX_COMPONENTS = 9  # BlurHash's own limit a direction


@dataclass(frozen=True)
class InfoOptions:
    size: bool = True
    format: bool = True
    dimensions: bool = True
    exif: bool = True
    exif_canonical: bool = False
    iptc: bool = True
    xmp: bool = True
    video_meta: bool = True
    colorspace: bool = False
    bands: bool = False
    sample_format: bool = False
    pages_number: bool = False
    alpha: bool = False
    check_transparency: bool = False
    crop: Crop | None = None  # the rectangle `c` would cut, as shares of the image
    palette: int = 0  # 0, or 2-256 colours
    average: bool = False
    average_ignore_transparent: bool = True
    dominant_colors: bool = False
    dominant_build_missed: bool = False
    blurhash: tuple[int, int] = (0, 0)
    thumbhash: bool = False
    hashsums: tuple[str, ...] = ()
    page: int = 0
    cachebuster: str = ""
    # Not in the canonical form: they refuse sources or URLs, never change the answer.
    max_src_resolution: float | None = None
    max_src_file_size: int | None = None
    expires: int | None = None

    @property
    def needs_pixels(self) -> bool:
        """Whether the answer needs decoded pixels (so the whole source)."""
        return bool(
            self.check_transparency
            or self.crop is not None
            or self.palette
            or self.average
            or self.dominant_colors
            or self.blurhash != (0, 0)
            or self.thumbhash
        )

    @property
    def needs_whole(self) -> bool:
        """Whether the whole source must be read (pixels, or a digest of every byte)."""
        return self.needs_pixels or bool(self.hashsums)

    @property
    def needs_image(self) -> bool:
        """Whether the answer needs the source to be an image (or a video) at all: size,
        format, metadata and digests can be told of any file."""
        return bool(
            self.dimensions
            or self.colorspace
            or self.bands
            or self.sample_format
            or self.pages_number
            or self.alpha
            or self.needs_pixels
        )

    def canonical(self) -> str:
        return canonical_form(self, _DEFAULT, NOT_CANONICAL)


NOT_CANONICAL = frozenset({"max_src_resolution", "max_src_file_size", "expires"})


_DEFAULT = InfoOptions()
Parser = Callable[[str, list[str], dict[str, Any]], None]


def _count(name: str, args: list[str], high: int) -> None:
    if len(args) > high:
        raise OptionError(name, f"at most {high} arguments, got {len(args)}")


def _flag(field_name: str) -> Parser:
    def parse(name: str, args: list[str], v: dict[str, Any]) -> None:
        _count(name, args, 1)
        v[field_name] = boolean(args[0])

    return parse


def _pair(first: str, second: str) -> Parser:
    """`name:%on:%second_flag`, the second optional (alpha, average, dominant colours)."""

    def parse(name: str, args: list[str], v: dict[str, Any]) -> None:
        _count(name, args, 2)
        v[first] = boolean(args[0])
        if len(args) > 1 and args[1]:
            v[second] = boolean(args[1])

    return parse


def _exif(name: str, args: list[str], v: dict[str, Any]) -> None:
    _pair("exif", "exif_canonical")(name, args, v)


def _crop(name: str, args: list[str], v: dict[str, Any]) -> None:
    # The processing option's own parser: the same arguments mean the same rectangle.
    values = Values(Rules())
    PARSERS["crop"](name, args, values)
    crop: Crop = values["crop"]
    v["crop"] = crop if crop.width > 0 and crop.height > 0 else None


def _palette(name: str, args: list[str], v: dict[str, Any]) -> None:
    _count(name, args, 1)
    colours = integer(name, args[0], 0, 256)
    if colours == 1:
        raise OptionError(name, "colours must be 0 (off) or 2-256")
    v["palette"] = colours


def _blurhash(name: str, args: list[str], v: dict[str, Any]) -> None:
    _count(name, args, 2)
    x = integer(name, args[0], 0, MAX_COMPONENTS) if args[0] else 0
    y = integer(name, args[1], 0, MAX_COMPONENTS) if len(args) > 1 and args[1] else x
    if (x == 0) != (y == 0):
        raise OptionError(name, "components must both be 1-9, or both 0 (off)")
    v["blurhash"] = (x, y)


def _hashsums(name: str, args: list[str], v: dict[str, Any]) -> None:
    chosen = set(v.get("hashsums", ()))
    for kind in args:
        if kind not in HASHSUMS:
            raise OptionError(name, f"unknown hashsum {kind!r} (md5, sha1, sha256, sha512)")
        chosen.add(kind)
    v["hashsums"] = tuple(k for k in HASHSUMS if k in chosen)


def _page(name: str, args: list[str], v: dict[str, Any]) -> None:
    _count(name, args, 1)
    v["page"] = integer(name, args[0], 0, 100_000)


def _cachebuster(name: str, args: list[str], v: dict[str, Any]) -> None:
    _count(name, args, 1)
    v["cachebuster"] = args[0]


def _expires(name: str, args: list[str], v: dict[str, Any]) -> None:
    _count(name, args, 1)
    stamp = integer(name, args[0], -INT64, INT64)
    v["expires"] = stamp if stamp > 0 else None


def _max_resolution(name: str, args: list[str], v: dict[str, Any]) -> None:
    _count(name, args, 1)
    v["max_src_resolution"] = number(name, args[0], 0.0, 10_000.0, above=True)


def _max_file_size(name: str, args: list[str], v: dict[str, Any]) -> None:
    _count(name, args, 1)
    v["max_src_file_size"] = integer(name, args[0], 1, INT64)


PARSERS_BY_NAME: dict[str, Parser] = {}
SECURITY = frozenset({"max_src_resolution", "msr", "max_src_file_size", "msfs"})


def _register(parser: Parser, *names: str) -> None:
    for name in names:
        PARSERS_BY_NAME[name] = parser


_register(_flag("size"), "size", "s")
_register(_flag("format"), "format", "f")
_register(_flag("dimensions"), "dimensions", "d")
_register(_exif, "exif")
_register(_flag("iptc"), "iptc")
_register(_flag("xmp"), "xmp")
_register(_flag("video_meta"), "video_meta", "vm")
_register(_flag("colorspace"), "colorspace", "cs")
_register(_flag("bands"), "bands", "b")
_register(_flag("sample_format"), "sample_format", "sf")
_register(_flag("pages_number"), "pages_number", "pn")
_register(_pair("alpha", "check_transparency"), "alpha", "a")
_register(_crop, "crop", "c")
_register(_palette, "palette", "p")
_register(_pair("average", "average_ignore_transparent"), "average", "avg")
_register(_pair("dominant_colors", "dominant_build_missed"), "dominant_colors", "dc")
_register(_blurhash, "blurhash", "bh")
_register(_flag("thumbhash"), "thumb_hash", "thumbhash", "th")
_register(_hashsums, "calc_hashsums", "chs")
_register(_page, "page", "pg")
_register(_cachebuster, "cachebuster", "cb")
_register(_expires, "expires", "exp")
_register(_max_resolution, "max_src_resolution", "msr")
_register(_max_file_size, "max_src_file_size", "msfs")


def parse_info_options(
    segments: Iterable[str], allow_security_options: bool = False
) -> InfoOptions:
    values: dict[str, Any] = {}
    for segment in segments:
        name, *args = segment.split(":")
        if not args:
            raise BadRequest(f"{segment!r} is not an info option (name:arguments)")
        parser = PARSERS_BY_NAME.get(name)
        if parser is None:
            raise BadRequest(f"unknown info option {name!r}")
        if name in SECURITY and not allow_security_options:
            raise Forbidden(f"security option {name} is not allowed")
        parser(name, args, values)
    return replace(_DEFAULT, **values)


def check_expiry(options: InfoOptions) -> None:
    if options.expires is not None and options.expires < time.time():
        raise NotFound("expired")
