"""Opening a source image: header checks first, then a shrink-on-load decode.

The type comes from the bytes (proxy.sniff), then the header is read without decoding
pixels, so a tiny file that declares a huge canvas is refused before it costs memory.
libvips reads what it can (loads use `fail_on="error"`, so truncated or corrupt data fails
the render, 422, instead of producing a grey half-image); BMP, ICO and HEIC go through
`foreign`, SVG through `svg`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyvips

from proxy.blob import Blob
from proxy.errors import Unprocessable, UnsupportedMediaType
from proxy.previews import foreign, svg
from proxy.previews.geometry import Plan
from proxy.sniff import HEAD_SIZE, sniff

# Formats libvips reads here (JPEG XL only where the build has a loader).
VIPS_SOURCES = frozenset({"jpeg", "png", "webp", "gif", "tiff", "avif"}) | (
    frozenset({"jxl"}) if pyvips.type_find("VipsOperation", "jxlload_source") else frozenset()
)
FOREIGN_SOURCES = frozenset({"bmp", "ico", "heic"})
SOURCES = VIPS_SOURCES | FOREIGN_SOURCES | {"svg"}
# Formats whose embedded thumbnail `enforce_thumbnail` may use.
THUMBNAIL_SOURCES = frozenset({"avif", "heic"})
# EXIF orientations that swap width and height.
TRANSPOSING = frozenset({5, 6, 7, 8})
DEEP_FORMATS = frozenset({"ushort", "short", "uint", "int", "float", "double"})


@dataclass(frozen=True)
class Header:
    format: str  # imgproxy's name for the source format
    width: int  # upright (after the EXIF orientation when auto-rotating); one frame
    height: int
    pages: int  # frames of an animation, or pages of a document
    animated: bool  # libvips sees an animation (delays, a loop, more than one frame)
    has_alpha: bool
    deep: bool  # more than 8 bits a channel
    svg: bytes | None = None  # the sanitised SVG, for vector sources
    vector_scale: float = 1.0  # < 1 when the SVG's own size is over the resolution limit

    @property
    def shrinks_on_load(self) -> bool:
        return self.format in VIPS_SOURCES or self.svg is not None


def _open(source: Blob, **options: object) -> pyvips.Image:
    if source.path is not None:
        return pyvips.Image.new_from_file(str(source.path), **options)
    assert source.body is not None
    return pyvips.Image.new_from_buffer(source.body, "", **options)


def _field(image: pyvips.Image, name: str, default: int) -> int:
    return int(image.get(name)) if image.get_typeof(name) else default


def source_format(source: Blob) -> str:
    detected = sniff(source.head(HEAD_SIZE))
    fmt = detected.format
    if fmt is None:
        if detected.kind == "unknown":
            raise UnsupportedMediaType("source is not an image")
        raise UnsupportedMediaType(f"unsupported source format {detected.mime}")
    if fmt not in SOURCES:
        raise UnsupportedMediaType(f"this server's libvips cannot read {fmt} sources")
    return fmt


def read_header(
    source: Blob, auto_rotate: bool, max_pixels: int, max_svg_size: int, thumbnail: bool = False
) -> Header:
    """`thumbnail`: describe the embedded thumbnail (enforce_thumbnail) where there is one."""
    fmt = source_format(source)
    if fmt == "svg":
        return _svg_header(source, max_pixels, max_svg_size)
    if fmt in FOREIGN_SOURCES:
        info = foreign.header(source, fmt, thumbnail)
        return Header(fmt, info.width, info.height, 1, False, info.has_alpha, False)
    try:
        options: dict[str, object] = {"access": "sequential", "fail_on": "error"}
        if thumbnail and fmt in THUMBNAIL_SOURCES:
            options["thumbnail"] = True
        image = _open(source, **options)
    except pyvips.Error:
        raise Unprocessable("source image is corrupt") from None
    pages = _field(image, "n-pages", 1)
    width, height = image.width, _field(image, "page-height", image.height)
    animated = pages > 1 and bool(image.get_typeof("delay")) and bool(image.get_typeof("loop"))
    if auto_rotate and _field(image, "orientation", 1) in TRANSPOSING:
        width, height = height, width
    deep = image.format in DEEP_FORMATS
    return Header(fmt, width, height, pages, animated, image.hasalpha(), deep)


def _svg_header(source: Blob, max_pixels: int, max_size: int) -> Header:
    if source.size > max_size:
        raise Unprocessable(f"SVG of {source.size} bytes is over the limit of {max_size} bytes")
    data = svg.sanitise(source.read())
    try:
        image = svg.load(data)
    except pyvips.Error:
        raise Unprocessable("SVG cannot be rendered") from None
    width, height = image.width, image.height
    shrink = 1.0
    if width * height > max_pixels:
        # imgproxy's vectorGuardScale: render the drawing smaller rather than refuse it.
        shrink = math.sqrt(width * height / max_pixels)
        width, height = max(1, int(width / shrink)), max(1, int(height / shrink))
    return Header("svg", width, height, 1, False, True, False, data, 1 / shrink)


def to_srgb(image: pyvips.Image, deep: bool = False) -> pyvips.Image:
    """Colour-manage into sRGB: through the embedded profile, or a stock one for CMYK.

    `deep`: keep 16 bits a channel (for preserve_hdr).
    """
    cmyk = image.interpretation == "cmyk"
    if not image.get_typeof("icc-profile-data") and not cmyk:
        return image
    try:
        return image.icc_transform(
            "srgb",
            embedded=True,
            input_profile="cmyk" if cmyk else "srgb",
            depth=16 if deep else 8,
        )
    except pyvips.Error:
        return image.colourspace("srgb")  # a broken profile: the plain conversion


def _manage(image: pyvips.Image, keep_profile: bool, deep: bool) -> pyvips.Image:
    """Into sRGB, unless the output keeps the profile (then RGB and grey stay as they are,
    as imgproxy leaves them: its profile goes out with them)."""
    if keep_profile and image.interpretation != "cmyk":
        return image
    return to_srgb(image, deep)


def _load_options(frames: int) -> dict[str, object]:
    return {"n": frames} if frames > 1 else {}


def thumbnail(
    source: Blob,
    header: Header,
    plan: Plan,
    rotate: int,
    auto_rotate: bool,
    frames: int,
    keep_profile: bool,
) -> pyvips.Image:
    """Shrink-on-load straight to the planned size (before the requested rotation).

    libvips's thumbnail gives 8 bits a channel: 16-bit output takes `full` instead."""
    width, height = plan.scaled_width, plan.scaled_height
    if rotate in (90, 270):
        width, height = height, width
    if header.svg is not None:
        # A vector is rendered at the planned scale (the plan allows enlarging it).
        return svg.load(header.svg, header.vector_scale * width / header.width)
    options: dict[str, object] = {"height": height, "size": "force", "no_rotate": not auto_rotate}
    load_options = ",".join(f"{k}={v}" for k, v in _load_options(frames).items())
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
    return _manage(fix_float(image), keep_profile, False)


def full(
    source: Blob,
    header: Header,
    frames: int,
    keep_profile: bool,
    deep: bool,
    thumbnail: bool = False,
) -> pyvips.Image:
    """The whole image as stored (EXIF orientation not yet applied), for trims and crops
    that need every source pixel, and for the sources libvips cannot shrink on load."""
    if header.svg is not None:
        return svg.load(header.svg, header.vector_scale)
    if header.format in FOREIGN_SOURCES:
        return _manage(foreign.load(source, header.format, thumbnail), keep_profile, deep)
    options: dict[str, object] = {"fail_on": "error", **_load_options(frames)}
    if thumbnail and header.format in THUMBNAIL_SOURCES:
        options["thumbnail"] = True
    return _manage(fix_float(_open(source, **options)), keep_profile, deep)


def fix_float(image: pyvips.Image) -> pyvips.Image:
    """Float grey TIFFs hold linear light; libvips tags them as (gamma) grey. imgproxy's
    vips_fix_float_tiff converts them through scRGB."""
    if image.format not in ("float", "double") or image.interpretation not in ("b-w", "grey16"):
        return image
    grey, alpha = (image[0], image[1:]) if image.bands > 1 else (image, None)
    rgb = grey.bandjoin([grey, grey]).copy(interpretation="scrgb")
    fixed = rgb.colourspace("grey16")
    if alpha is not None:
        fixed = fixed.bandjoin((alpha * 65535).cast("ushort"))
    return fixed


def frames(image: pyvips.Image) -> list[pyvips.Image]:
    """The pages of an animated image (stacked vertically by libvips), one image each."""
    page_height = _field(image, "page-height", image.height)
    if page_height >= image.height or image.height % page_height:
        return [image]
    count = image.height // page_height
    return [image.crop(0, i * page_height, image.width, page_height) for i in range(count)]
