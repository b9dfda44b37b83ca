"""What `/info` computes from pixels: colours, placeholders, transparency.

Every function takes 8-bit sRGB pixels (height x width x 4, RGBA) already scaled down by
the caller, so its cost is bounded whatever the source's size.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import blurhash
import numpy as np
import thash
from PIL import Image

THUMBHASH_SIDE = 100  # ThumbHash encodes images of at most 100x100
DOMINANT_COLOURS = 64  # colours the image is quantised to before swatches are picked


def rgba_dict(values: np.ndarray | tuple[int, ...], alpha: bool = True) -> dict[str, int]:
    r, g, b, *rest = (int(v) for v in values)
    colour = {"R": r, "G": g, "B": b}
    if alpha:
        colour["A"] = rest[0] if rest else 255
    return colour


def average(pixels: np.ndarray, ignore_transparent: bool) -> dict[str, int]:
    flat = pixels.reshape(-1, 4).astype(np.float64)
    if ignore_transparent:
        seen = flat[flat[:, 3] > 0]
        flat = seen if len(seen) else flat
    return rgba_dict(np.rint(flat.mean(axis=0)).astype(int))


def transparent(pixels: np.ndarray) -> bool:
    return bool((pixels[..., 3] < 255).any())


def palette(pixels: np.ndarray, colours: int) -> list[dict[str, int]]:
    """Up to `colours` RGBA colours, the most used first (Pillow's quantiser)."""
    image = Image.fromarray(pixels, "RGBA")
    quantised = image.quantize(colors=colours, method=Image.Quantize.FASTOCTREE)
    table = quantised.getpalette("RGBA") or []
    counts = sorted(_counts(quantised, colours), reverse=True)
    return [rgba_dict(tuple(table[4 * index : 4 * index + 4])) for _, index in counts]


def _counts(quantised: Image.Image, colours: int) -> list[tuple[int, int]]:
    """(pixels, palette index) of a quantised image's colours."""
    return [(int(n), int(i)) for n, i in quantised.getcolors(colours) or []]  # type: ignore[arg-type]  # a "P" image's colours are palette indices


# -- dominant colours: Vibrant's swatches (Android's Palette, node-vibrant) ----------------


@dataclass(frozen=True)
class Target:
    name: str
    luma: tuple[float, float, float]  # min, target, max
    saturation: tuple[float, float, float]


TARGETS = (
    Target("vibrant", (0.3, 0.5, 0.7), (0.35, 1.0, 1.0)),
    Target("light_vibrant", (0.55, 0.74, 1.0), (0.35, 1.0, 1.0)),
    Target("dark_vibrant", (0.0, 0.26, 0.45), (0.35, 1.0, 1.0)),
    Target("muted", (0.3, 0.5, 0.7), (0.0, 0.3, 0.4)),
    Target("light_muted", (0.55, 0.74, 1.0), (0.0, 0.3, 0.4)),
    Target("dark_muted", (0.0, 0.26, 0.45), (0.0, 0.3, 0.4)),
)
WEIGHTS = (3.0, 6.5, 0.5)  # saturation, luma, population: Vibrant's weights


def _swatches(pixels: np.ndarray) -> list[tuple[tuple[int, int, int], int]]:
    opaque = pixels.reshape(-1, 4)
    opaque = opaque[opaque[:, 3] >= 125][:, :3]
    if not len(opaque):
        return []
    image = Image.fromarray(opaque.reshape(1, -1, 3).astype(np.uint8), "RGB")
    quantised = image.quantize(colors=DOMINANT_COLOURS, method=Image.Quantize.MEDIANCUT)
    table = quantised.getpalette() or []
    counts = _counts(quantised, DOMINANT_COLOURS)
    return [((table[3 * i], table[3 * i + 1], table[3 * i + 2]), n) for n, i in counts]


def _hsl(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    h, lum, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    return h, s, lum


def _from_hsl(h: float, s: float, lum: float) -> dict[str, int]:
    r, g, b = colorsys.hls_to_rgb(h, lum, s)
    return {"R": round(r * 255), "G": round(g * 255), "B": round(b * 255)}


def dominant_colors(pixels: np.ndarray, build_missed: bool) -> dict[str, dict[str, int] | None]:
    swatches = _swatches(pixels)
    most = max((n for _, n in swatches), default=1)
    chosen: dict[str, tuple[int, int, int] | None] = {}
    used: set[tuple[int, int, int]] = set()
    for target in TARGETS:
        best, best_score = None, -1.0
        for rgb, count in swatches:
            _, s, lum = _hsl(rgb)
            if rgb in used or not (
                target.saturation[0] <= s <= target.saturation[2]
                and target.luma[0] <= lum <= target.luma[2]
            ):
                continue
            score = (
                WEIGHTS[0] * (1 - abs(s - target.saturation[1]))
                + WEIGHTS[1] * (1 - abs(lum - target.luma[1]))
                + WEIGHTS[2] * count / most
            ) / sum(WEIGHTS)
            if score > best_score:
                best, best_score = rgb, score
        chosen[target.name] = best
        if best is not None:
            used.add(best)
    out: dict[str, dict[str, int] | None] = {
        name: None if rgb is None else rgba_dict(rgb, alpha=False) for name, rgb in chosen.items()
    }
    if build_missed:
        _build_missed(out, chosen)
    return out


def _build_missed(
    out: dict[str, dict[str, int] | None], chosen: dict[str, tuple[int, int, int] | None]
) -> None:
    """Vibrant's generateEmptySwatches: a missing swatch from its found sibling, at the
    missing one's target luma."""
    for target in TARGETS:
        if out[target.name] is not None:
            continue
        family = "vibrant" if target.name.endswith("vibrant") else "muted"
        siblings = [t for t in TARGETS if t.name.endswith(family) and chosen[t.name]]
        if not siblings:
            continue
        base = chosen[siblings[0].name]
        assert base is not None
        h, s, _ = _hsl(base)
        out[target.name] = _from_hsl(h, s, target.luma[1])


# -- placeholders ---------------------------------------------------------------------


def blurhash_of(pixels: np.ndarray, x: int, y: int) -> str:
    """woltapp's C encoder (its own Python binding) on the RGB values, alpha ignored."""
    rgb = Image.fromarray(np.ascontiguousarray(pixels[..., :3]), "RGB")
    return str(blurhash.encode(rgb, x, y))


def thumbhash_of(pixels: np.ndarray) -> str:
    """The ThumbHash of at most 100x100 RGBA pixels, hex as imgproxy writes it."""
    height, width = pixels.shape[:2]
    assert width <= THUMBHASH_SIDE and height <= THUMBHASH_SIDE
    # The pure backend: byte for byte the reference's arithmetic (the NumPy one is float32).
    hashed = thash.rgba_to_thumb_hash_pure(width, height, list(pixels.tobytes()))
    return bytes(hashed).hex().upper()
