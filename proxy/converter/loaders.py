"""Decoding originals into libvips images, one loader per family of formats.

libvips reads most formats itself; pillow-heif does HEIC (the libvips wheel has no HEVC
decoder), pynrrd does NRRD, and Pillow covers what libvips lacks (BMP, ICO, ...). Every
loader checks the resolution from the header before it decodes a pixel.
"""

from __future__ import annotations

import numpy as np
import pyvips
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from proxy.blob import Blob
from proxy.errors import Unprocessable
from proxy.limits import SourceLimits

# Loaders that would read any text or raw file as an image, or map files by their header;
# and SVG by path, which could follow references to files next to it (see load_svg).
_REFUSED_LOADERS = ("csvload", "matrixload", "vipsload", "rawload", "svgload")
_PILLOW_MODES = {"1": "L", "P": "RGBA", "PA": "RGBA", "LA": "LA", "CMYK": "RGB", "YCbCr": "RGB"}


def load_vips(blob: Blob, limits: SourceLimits) -> pyvips.Image | None:
    """The first page as libvips reads it, or None when libvips does not know the format."""
    try:
        if blob.path is not None:
            image = pyvips.Image.new_from_file(str(blob.path), fail_on="error")
        else:
            image = pyvips.Image.new_from_buffer(blob.body, "", fail_on="error")
    except pyvips.Error:
        return None
    if image.get("vips-loader").startswith(_REFUSED_LOADERS):
        return None
    limits.check_pixels(image.width, image.height)
    return image


def load_svg(blob: Blob, limits: SourceLimits) -> pyvips.Image:
    """From memory, never by path: with no file to be relative to, librsvg follows no
    reference out of the document. The canvas is checked before anything is rasterised."""
    try:
        image = pyvips.Image.new_from_buffer(blob.read(), "", access="sequential")
    except pyvips.Error as exc:
        raise Unprocessable("cannot read SVG: not a valid document") from exc
    limits.check_pixels(image.width, image.height)
    return image


def load_pillow(blob: Blob, limits: SourceLimits) -> pyvips.Image | None:
    with blob.open() as fh:
        try:
            picture = PILImage.open(fh)
        except PILImage.DecompressionBombError as exc:
            raise Unprocessable(f"source resolution over the limit: {exc}") from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return None  # Pillow does not know it (or cannot even read its header)
        with picture:
            limits.check_pixels(*picture.size)
            try:
                picture.load()
                mode = _PILLOW_MODES.get(picture.mode)
                decoded = picture.convert(mode) if mode is not None else picture
                array = np.asarray(decoded)
            except (OSError, ValueError, SyntaxError) as exc:
                raise Unprocessable(f"cannot decode {picture.format} image: {exc}") from exc
    return from_array(array)


def load_heif(blob: Blob, limits: SourceLimits) -> pyvips.Image:
    import pillow_heif  # imported late: it loads libheif, needed only for HEIC

    with blob.open() as fh:
        try:
            heif = pillow_heif.open_heif(fh, convert_hdr_to_8bit=True)
            limits.check_pixels(*heif.size)
            array = np.asarray(heif)
        except Unprocessable:
            raise
        except Exception as exc:  # libheif reports every failure as a bare error
            raise Unprocessable(f"cannot decode HEIF image: {exc}") from exc
    return from_array(array)


def load_nrrd(blob: Blob, limits: SourceLimits) -> pyvips.Image:
    import nrrd

    with blob.open() as fh:
        try:
            header = nrrd.read_header(fh)
            if "data file" in header or "datafile" in header:
                raise Unprocessable("NRRD with a detached data file cannot be converted")
            sizes = [int(s) for s in header["sizes"]]
            shape = [s for s in sizes if s != 1]
            channels = shape[0] if len(shape) == 3 and shape[0] in (3, 4) else 1
            if len(shape) - (channels > 1) != 2:
                raise Unprocessable(f"NRRD of sizes {sizes}: only 2D images can be converted")
            limits.check_pixels(*shape[-2:])
            data = nrrd.read_data(header, fh, index_order="C")
        except Unprocessable:
            raise
        except Exception as exc:  # pynrrd raises NRRDError, ValueError, zlib.error, ...
            raise Unprocessable(f"cannot read NRRD: {exc}") from exc
    data = np.squeeze(data)
    if data.dtype.itemsize == 8 and data.dtype.kind in "iu":
        data = data.astype(np.float64)  # libvips has no 64-bit integers
    return from_array(data)


def from_array(array: np.ndarray) -> pyvips.Image:
    if array.dtype == np.bool_:
        array = array.astype(np.uint8) * 255
    image = pyvips.Image.new_from_array(np.ascontiguousarray(array))
    bands = image.bands
    interpretation = "srgb" if bands >= 3 else "b-w"
    if image.format == "ushort":
        interpretation = "rgb16" if bands >= 3 else "grey16"
    return image.copy(interpretation=interpretation)
