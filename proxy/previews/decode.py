"""Opening a source image with libvips: header checks first, then a shrink-on-load decode.

The header is read without decoding pixels, so a tiny file that declares a huge canvas is
refused before it costs memory. Loads use `fail_on="error"`, so truncated or corrupt data
fails the render (422) instead of producing a grey half-image.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from proxy.blob import Blob
from proxy.errors import Unprocessable, UnsupportedMediaType
from proxy.limits import SourceLimits
from proxy.previews.formats import source_format
from proxy.previews.geometry import Plan

# Loaders a source may use: images only (no vips/matrix/csv/raw files, no documents).
ALLOWED_SOURCES = frozenset({"jpeg", "png", "webp", "gif", "tiff", "heif"})
ANIMATED_SOURCES = frozenset({"gif", "webp"})
# EXIF orientations that swap width and height.
TRANSPOSING = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class Header:
    format: str
    width: int  # upright, after the EXIF orientation when auto-rotating
    height: int
    pages: int
    has_alpha: bool


def _open(source: Blob, **options: object) -> pyvips.Image:
    if source.path is not None:
        return pyvips.Image.new_from_file(str(source.path), **options)
    assert source.body is not None
    return pyvips.Image.new_from_buffer(source.body, "", **options)


def _field(image: pyvips.Image, name: str, default: int) -> int:
    return int(image.get(name)) if image.get_typeof(name) else default


def read_header(source: Blob, limits: SourceLimits, auto_rotate: bool) -> Header:
    try:
        image = _open(source, access="sequential", fail_on="error")
    except pyvips.Error as exc:
        if "known" in str(exc):  # "... is not a known file format" / "not in a known format"
            raise UnsupportedMediaType("source is not an image") from None
        raise Unprocessable("source image is corrupt") from None
    fmt = source_format(image.get("vips-loader"))
    if fmt not in ALLOWED_SOURCES:
        raise UnsupportedMediaType(f"unsupported source format {fmt}")
    pages = _field(image, "n-pages", 1)
    width, height = image.width, image.height
    page_height = _field(image, "page-height", height)
    limits.check_pixels(width, page_height, pages)
    if auto_rotate and _field(image, "orientation", 1) in TRANSPOSING:
        width, height = height, width
    return Header(fmt, width, height, pages, image.hasalpha())


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """Colour-manage into sRGB: through the embedded profile, or a stock one for CMYK."""
    cmyk = image.interpretation == "cmyk"
    if not image.get_typeof("icc-profile-data") and not cmyk:
        return image
    try:
        return image.icc_transform("srgb", embedded=True, input_profile="cmyk" if cmyk else "srgb")
    except pyvips.Error:
        return image.colourspace("srgb")  # a broken profile: the plain conversion


def thumbnail(
    source: Blob, plan: Plan, rotate: int, auto_rotate: bool, animated: bool
) -> pyvips.Image:
    """Shrink-on-load straight to the planned size (before the requested rotation)."""
    width, height = plan.scaled_width, plan.scaled_height
    if rotate in (90, 270):
        width, height = height, width
    options: dict[str, object] = {"height": height, "size": "force", "no_rotate": not auto_rotate}
    load_options = "n=-1" if animated else ""
    if source.path is not None:
        # Our paths (cache and spool files) are hex names: no "[" to misread as options.
        name = f"{source.path}[{load_options}]" if load_options else str(source.path)
        image = pyvips.Image.thumbnail(name, width, fail_on="error", **options)
    else:
        # thumbnail_buffer ignores a fail_on keyword; the load option string carries it.
        load_options = ",".join(filter(None, (load_options, "fail_on=error")))
        image = pyvips.Image.thumbnail_buffer(
            source.body, width, option_string=load_options, **options
        )
    return to_srgb(image)


def full(source: Blob, auto_rotate: bool, animated: bool) -> pyvips.Image:
    """The whole image, upright, for trims and crops that need every source pixel."""
    options: dict[str, object] = {"fail_on": "error"}
    if animated:
        options["n"] = -1
    image = _open(source, **options)
    if auto_rotate:
        image = image.autorot()
    return to_srgb(image)


def frames(image: pyvips.Image) -> list[pyvips.Image]:
    """The pages of an animated image (stacked vertically by libvips), one image each."""
    page_height = _field(image, "page-height", image.height)
    if page_height >= image.height or image.height % page_height:
        return [image]
    count = image.height // page_height
    return [image.crop(0, i * page_height, image.width, page_height) for i in range(count)]
