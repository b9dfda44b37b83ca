"""Any image libvips holds -> 8-bit grey or sRGB (with optional alpha) that browsers show."""

from __future__ import annotations

import pyvips

# Colour spaces libvips converts to sRGB itself (exactly, not by stretching a value range).
_CONVERTIBLE = {"lab", "labq", "labs", "lch", "cmc", "xyz", "yxy", "scrgb", "hsv", "cmyk"}
_INTEGER_MAX = {
    "uchar": 255,
    "char": 127,
    "ushort": 65535,
    "short": 32767,
    "uint": 2**32 - 1,
    "int": 2**31 - 1,
}


def viewable(image: pyvips.Image) -> pyvips.Image:
    image = image.autorot()  # the output keeps no metadata, so orientation is applied here
    if image.format in ("complex", "dpcomplex"):
        image = image.abs()
    if image.interpretation in _CONVERTIBLE:
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = _stretch(image)
    return _limit_bands(image)


def _stretch(image: pyvips.Image) -> pyvips.Image:
    """Scale to 0-255 by the image's own value range, so 12-bit data in 16 bits is not black."""
    colour, alpha = _split_alpha(image)
    colour = _finite(colour)
    low, high = colour.min(), colour.max()
    scale = 255.0 / (high - low) if high > low else 0.0
    colour = colour.linear(scale, 0.5 - low * scale).cast("uchar")
    if alpha is not None:
        colour = colour.bandjoin(_alpha_to_uchar(alpha))
    interpretation = "srgb" if colour.bands >= 3 else "b-w"
    return colour.copy(interpretation=interpretation)


def _split_alpha(image: pyvips.Image) -> tuple[pyvips.Image, pyvips.Image | None]:
    if image.bands in (2, 4) and image.hasalpha():
        return image.extract_band(0, n=image.bands - 1), image[image.bands - 1]
    return image, None


def _finite(image: pyvips.Image) -> pyvips.Image:
    """NaN and infinities would poison the value range: count them as the lowest value."""
    if image.format not in ("float", "double"):
        return image
    finite = (image == image) & (image.abs() < 3.0e38)
    lowest = finite.ifthenelse(image, 3.0e38).min()
    return finite.ifthenelse(image, lowest)


def _alpha_to_uchar(alpha: pyvips.Image) -> pyvips.Image:
    top = _INTEGER_MAX.get(alpha.format)
    if top is None:  # float alpha is 0-1 by convention, but trust the data when it says more
        top = max(1.0, _finite(alpha).max())
    return (alpha * (255.0 / top)).cast("uchar")


def _limit_bands(image: pyvips.Image) -> pyvips.Image:
    if image.bands > 4:  # multispectral: show the first three channels
        image = image.extract_band(0, n=3)
    if image.bands >= 3:
        return image.copy(interpretation="srgb")
    return image.copy(interpretation="b-w")
