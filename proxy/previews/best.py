"""`format:best`: encode the processed image in every format that suits it, keep the smallest.

As imgproxy Pro's best format: the image's complexity decides between lossless candidates
(PNG, lossless WebP: graphics, screenshots, flat colour) and lossy ones (JPEG, WebP, AVIF:
photographs); WebP and AVIF are candidates only where the client's Accept takes them; an
image with transparency never becomes JPEG, an animation is WebP or GIF. All of it is one
render in one render process, and the answer is cached like any preview.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyvips

from proxy.previews.args import BestFormat
from proxy.previews.encode import encode, metadata_policy
from proxy.previews.options import Options

PROBE_SIDE = 256  # complexity is measured on the image scaled to fit this
AVIF_MIN_SIDE = 16


@dataclass(frozen=True)
class Candidate:
    format: str
    lossless: bool = False


def complexity(image: pyvips.Image) -> float:
    """Mean edge strength (Sobel, 0-255) of the image in grey, on a small copy of it."""
    grey = image.colourspace("b-w")[0]
    if grey.format != "uchar":
        grey = grey.cast("uchar")
    scale = min(1.0, PROBE_SIDE / max(grey.width, grey.height))
    if scale < 1:
        grey = grey.resize(scale)
    if grey.width < 3 or grey.height < 3:
        return 0.0
    return float(grey.sobel().avg())


def candidates(
    image: pyvips.Image, allowed: tuple[str, ...], animated: bool, settings: BestFormat
) -> list[Candidate]:
    if animated:
        return [Candidate("webp")] if "webp" in allowed else [Candidate("gif")]
    alpha = bool(image.hasalpha())
    tiny = min(image.width, image.height) < AVIF_MIN_SIDE
    simple = complexity(image) < settings.complexity_threshold
    if simple:
        found = [Candidate("png")]
        if "webp" in allowed:
            found.append(Candidate("webp", lossless=True))
    else:
        found = [] if alpha else [Candidate("jpeg")]
        if "webp" in allowed:
            found.append(Candidate("webp"))
        if "avif" in allowed and not tiny:
            found.append(Candidate("avif"))
        if not found:
            found.append(Candidate("png"))
    if settings.max_pixels and image.width * image.height > settings.max_pixels:
        return found[-1:]  # too large to try them all: the one that suits it best
    return found


def _lossless_webp(image: pyvips.Image, options: Options) -> bytes:
    image, keep = metadata_policy(image, options, "webp")
    return bytes(image.webpsave_buffer(lossless=True, effort=4, keep=keep))


def encode_best(
    image: pyvips.Image,
    found: list[Candidate],
    options: Options,
    quality: dict[str, int],
) -> tuple[bytes, str]:
    """The smallest encoding among the candidates, and its format. `image` is in memory
    (render copies it there): each candidate reads it again."""
    best: tuple[bytes, str] | None = None
    for candidate in found:
        if candidate.lossless:
            body = _lossless_webp(image, options)
        else:
            body = encode(image, candidate.format, quality[candidate.format], options)
        if best is None or len(body) < len(best[0]):
            best = (body, candidate.format)
    assert best is not None
    return best
