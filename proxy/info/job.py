"""An `/info` answer, computed in a render process: the source is hostile, so its header
is parsed and its pixels decoded there, never in the server.

The source is the cached file (or bytes), or, for a header-only answer of an uncached
original, a `RangedSource` read through the server in ranges (only what libvips or FFmpeg
asks for: for a JPEG, its first block). Limits are checked from the header before a pixel
is decoded.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from typing import Any, BinaryIO

import numpy as np
import pyvips

from proxy.blob import Blob
from proxy.converter.rangefile import MIN_BLOCK, RangeFile
from proxy.errors import Unprocessable, UnsupportedMediaType
from proxy.info import metadata, pixels
from proxy.info.args import InfoArgs
from proxy.info.options import InfoOptions
from proxy.jobs.protocol import Job, Output, RangedSource
from proxy.limits import SourceLimits
from proxy.previews import decode
from proxy.previews.geometry import crop_size, position
from proxy.previews.options import Gravity
from proxy.sniff import HEAD_SIZE, VIDEO_CONTAINERS, Detected, sniff

Fetch = Callable[[int, int], bytes]
WORKING_SIDE = 512  # colours and crops are found on the image scaled to fit this
HASH_CHUNK = 1 << 20


def describe(job: Job, ranges: Fetch | None) -> Output:
    args: InfoArgs = job.args
    reader = _reader(job.source, ranges)
    try:
        answer = _describe(job.source, reader, args)
    except pyvips.Error:
        raise Unprocessable("source image is truncated or corrupt") from None
    finally:
        reader.close()
    return Output(json.dumps(answer, ensure_ascii=False).encode(), None)


def _reader(source: Blob | RangedSource, ranges: Fetch | None) -> BinaryIO:
    if isinstance(source, RangedSource):
        assert ranges is not None
        # Small blocks: a header is read, and the server hands over its first block as read.
        block = MIN_BLOCK
        return io.BufferedReader(RangeFile(ranges, source.size, block), buffer_size=block)
    return source.open()


def _head(reader: BinaryIO) -> bytes:
    reader.seek(0)
    head = reader.read(HEAD_SIZE)
    reader.seek(0)
    return head


def _describe(source: Blob | RangedSource, reader: BinaryIO, args: InfoArgs) -> dict[str, Any]:
    options = args.options
    args.limits.check_file_size(args.size)
    detected = sniff(_head(reader))
    out: dict[str, Any] = {}
    if options.size:
        out["size"] = args.size
    if detected.kind in VIDEO_CONTAINERS:
        found = _video(source, reader, options, args.limits)
        if options.format:
            out |= {"format": found.pop("format"), "mime_type": detected.mime}
        found.pop("format", None)
        return out | found  # no digests of a video: it is never read whole (as imgproxy)
    if options.format:
        out |= {"format": detected.format or detected.kind, "mime_type": detected.mime}
    if options.needs_image:
        if detected.format is None:
            what = "a file of no known type" if detected.kind == "unknown" else detected.mime
            raise UnsupportedMediaType(f"not an image: {what}")
        out |= _image(source, reader, detected, args)
    elif options.exif or options.iptc or options.xmp:
        out |= _image_metadata_if_any(source, reader, detected, options)
    if options.hashsums:
        out["hashsums"] = _hashsums(reader, options.hashsums)
    return out


def _video(
    source: Blob | RangedSource, reader: BinaryIO, options: InfoOptions, limits: SourceLimits
) -> dict[str, Any]:
    from proxy.info import video  # PyAV loads FFmpeg: only for videos

    if isinstance(source, Blob) and source.path is not None:
        return video.describe(str(source.path), options, limits)
    return video.describe(reader, options, limits)


# -- images ---------------------------------------------------------------------------


def _open(source: Blob | RangedSource, reader: BinaryIO, **options: object) -> pyvips.Image:
    if isinstance(source, Blob) and source.path is not None:
        return pyvips.Image.new_from_file(str(source.path), **options)
    if isinstance(source, Blob) and source.body is not None:
        return pyvips.Image.new_from_buffer(source.body, "", **options)
    custom = pyvips.SourceCustom()
    custom.on_read(reader.read)
    custom.on_seek(lambda offset, whence: reader.seek(offset, whence))
    return pyvips.Image.new_from_source(custom, "", **options)


def _load_options(fmt: str, page: int) -> dict[str, object]:
    options: dict[str, object] = {"access": "sequential", "fail_on": "error"}
    if page and fmt in ("gif", "webp", "tiff", "avif", "jxl"):
        options["page"] = page
    return options


def _image_metadata_if_any(
    source: Blob | RangedSource, reader: BinaryIO, detected: Detected, options: InfoOptions
) -> dict[str, Any]:
    """EXIF, IPTC and XMP when libvips reads the file; nothing for other files."""
    fmt = detected.format
    if fmt not in decode.VIPS_SOURCES:
        return {}
    try:
        image = _open(source, reader, **_load_options(fmt, options.page))
    except pyvips.Error:
        return {}
    return _metadata(image, options)


def _metadata(image: pyvips.Image, options: InfoOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if options.exif:
        out["exif"] = metadata.exif(image)
    if options.iptc:
        records, photoshop = metadata.iptc(image)
        out["iptc"] = records
        if photoshop:
            out["photoshop"] = photoshop
    if options.xmp:
        out["xmp"] = metadata.xmp(image)
    return out


def _limits(args: InfoArgs) -> SourceLimits:
    limits, options = args.limits, args.options
    if options.max_src_resolution is not None:
        limits = SourceLimits(int(options.max_src_resolution * 1_000_000), limits.max_file_size, 0)
    if options.max_src_file_size is not None:
        limits = SourceLimits(limits.max_pixels, options.max_src_file_size, 0)
        limits.check_file_size(args.size)
    return limits


def _image(
    source: Blob | RangedSource, reader: BinaryIO, detected: Detected, args: InfoArgs
) -> dict[str, Any]:
    options = args.options
    limits = _limits(args)
    fmt = detected.format
    assert fmt is not None
    if fmt not in decode.VIPS_SOURCES:
        return _other_image(source, fmt, args, limits)
    try:
        image = _open(source, reader, **_load_options(fmt, options.page))
    except pyvips.Error:
        raise Unprocessable("source image is corrupt") from None
    width = image.width
    height = int(image.get("page-height")) if image.get_typeof("page-height") else image.height
    orientation = int(image.get("orientation")) if image.get_typeof("orientation") else 1
    if orientation in decode.TRANSPOSING:
        width, height = height, width
    limits.check_pixels(width, height)  # from the header, before any pixel is decoded
    out: dict[str, Any] = {}
    if options.dimensions:
        out |= {"width": width, "height": height, "orientation": orientation}
    out |= _metadata(image, options)
    out |= _layout(options, image.interpretation, image.bands, image.format, bool(image.hasalpha()))
    if options.pages_number:
        out["pages_number"] = int(image.get("n-pages")) if image.get_typeof("n-pages") else 1
    if options.needs_pixels:
        assert isinstance(source, Blob)
        working = _working_vips(source, fmt, options.page)
        _merge(out, _from_pixels(working, width, height, options), bool(image.hasalpha()))
    return out


def _merge(out: dict[str, Any], found: dict[str, Any], has_alpha: bool) -> None:
    """Pixel findings into the answer; transparency goes into `alpha` (never without one)."""
    transparent = found.pop("transparent", None)
    if transparent is not None:
        out["alpha"] = {"alpha": has_alpha, "transparent": has_alpha and transparent}
    out |= found


def _other_image(
    source: Blob | RangedSource, fmt: str, args: InfoArgs, limits: SourceLimits
) -> dict[str, Any]:
    """BMP, ICO, HEIC and SVG: through the previews' decoders, from a complete file."""
    assert isinstance(source, Blob)
    options = args.options
    header = decode.read_header(source, True, limits.max_pixels, args.max_svg_size)
    limits.check_pixels(header.width, header.height)
    out: dict[str, Any] = {}
    if options.dimensions:
        out |= {"width": header.width, "height": header.height, "orientation": 1}
    bands = 4 if header.has_alpha else 3
    out |= _layout(options, "srgb", bands, "uchar", header.has_alpha)
    if options.pages_number:
        out["pages_number"] = header.pages
    if options.exif:
        out["exif"] = {}
    if options.iptc:
        out["iptc"] = {}
    if options.xmp:
        out["xmp"] = {}
    if options.needs_pixels:
        image = decode.full(source, header, 1, False, False)
        scale = min(1.0, WORKING_SIDE / max(image.width, image.height))
        working = image.resize(scale) if scale < 1 else image
        found = _from_pixels(_rgba(working), header.width, header.height, options)
        _merge(out, found, header.has_alpha)
    return out


def _layout(
    options: InfoOptions, space: str, bands: int, sample: str, alpha: bool
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if options.colorspace:
        out["colorspace"] = space
    if options.bands:
        out["bands"] = bands
    if options.sample_format:
        out["sample_format"] = sample
    if options.alpha:
        out["alpha"] = {"alpha": alpha}
    return out


def _working_vips(source: Blob, fmt: str, page: int) -> pyvips.Image:
    """The upright image shrunk on load to fit WORKING_SIDE (never enlarged)."""
    load = f"page={page}" if page and fmt in ("gif", "webp", "tiff", "avif") else ""
    size = WORKING_SIDE
    if source.path is not None:
        name = f"{source.path}[{load}]" if load else str(source.path)
        image = pyvips.Image.thumbnail(name, size, height=size, size="down", fail_on="error")
    else:
        options = ",".join(filter(None, (load, "fail_on=error")))
        image = pyvips.Image.thumbnail_buffer(
            source.body, size, height=size, size="down", option_string=options
        )
    return _rgba(decode.fix_float(image))


def _rgba(image: pyvips.Image) -> pyvips.Image:
    image = decode.to_srgb(image)
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb").cast("uchar")
    if image.bands == 3:
        image = image.bandjoin(255)
    return image[:4].copy_memory()


def _array(image: pyvips.Image) -> np.ndarray:
    data = image.write_to_memory()
    return np.ndarray((image.height, image.width, 4), np.uint8, data)


def _from_pixels(
    working: pyvips.Image, width: int, height: int, options: InfoOptions
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    array = _array(working)
    if options.check_transparency:
        out["transparent"] = pixels.transparent(array)
    if options.crop is not None:
        out["crop"] = _crop(working, width, height, options)
    if options.palette:
        out["palette"] = pixels.palette(array, options.palette)
    if options.average:
        out["average"] = pixels.average(array, options.average_ignore_transparent)
    if options.dominant_colors:
        out["dominant_colors"] = pixels.dominant_colors(array, options.dominant_build_missed)
    if options.blurhash != (0, 0) or options.thumbhash:
        side = pixels.THUMBHASH_SIDE
        small = working
        if max(working.width, working.height) > side:
            small = working.thumbnail_image(side, height=side, size="down")
        placeholder = _array(small[:4].copy_memory())
        if options.blurhash != (0, 0):
            out["blurhash"] = pixels.blurhash_of(placeholder, *options.blurhash)
        if options.thumbhash:
            out["thumb_hash"] = pixels.thumbhash_of(placeholder)
    return out


def _crop(working: pyvips.Image, width: int, height: int, options: InfoOptions) -> dict[str, float]:
    """Where `c:<w>:<h>:<gravity>` would cut, as shares of the upright image."""
    spec = options.crop
    assert spec is not None
    crop_w = min(crop_size(width, spec.width) or width, width)
    crop_h = min(crop_size(height, spec.height) or height, height)
    gravity = spec.gravity
    if gravity is not None and gravity.type == "sm":
        scale = working.width / width
        w = max(1, min(working.width, round(crop_w * scale)))
        h = max(1, min(working.height, round(crop_h * scale)))
        # libvips's attention crop: the box centred on the attention point, kept inside.
        _, found = working.smartcrop(w, h, interesting="attention", attention_x=True,
                                     attention_y=True)  # fmt: skip
        left = min(max(0, found["attention_x"] - w // 2), working.width - w) / scale
        top = min(max(0, found["attention_y"] - h // 2), working.height - h) / scale
    else:
        left, top = position(width, height, crop_w, crop_h, gravity or Gravity())
    return {
        "left": left / width,
        "top": top / height,
        "width": crop_w / width,
        "height": crop_h / height,
    }


def _hashsums(reader: BinaryIO, kinds: tuple[str, ...]) -> dict[str, str]:
    digests = {kind: hashlib.new(kind) for kind in kinds}
    reader.seek(0)
    while chunk := reader.read(HASH_CHUNK):
        for digest in digests.values():
            digest.update(chunk)
    return {kind: digest.hexdigest() for kind, digest in digests.items()}
