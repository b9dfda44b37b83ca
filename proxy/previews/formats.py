"""Output formats: what each can hold, and which one a request gets.

`SPECS` is imgproxy's per-format table (imagetype/defs.go): it decides flattening, the
automatic choice, quality, `max_bytes`, animation and 16-bit output.

The Accept header is read before the cache lookup, so what it allows is part of the cache
key: `auto`, or `auto:avif:webp` and the like (the formats the client takes, in the order
imgproxy prefers them). The renderer makes the final pick from that and the source, whose
identity is in the key too, so the pick is the same every time.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = "auto"
BEST = "best"  # format:best: every candidate encoded, the smallest answered


@dataclass(frozen=True)
class Spec:
    alpha: bool
    colour_profile: bool
    quality: bool  # the size follows a quality setting (so max_bytes can lower it)
    animation_save: bool
    hdr: bool  # keeps 16 bits a channel with preserve_hdr


SPECS = {
    "jpeg": Spec(alpha=False, colour_profile=True, quality=True, animation_save=False, hdr=False),
    "png": Spec(alpha=True, colour_profile=True, quality=False, animation_save=False, hdr=True),
    "webp": Spec(alpha=True, colour_profile=True, quality=True, animation_save=True, hdr=False),
    "avif": Spec(alpha=True, colour_profile=True, quality=True, animation_save=False, hdr=True),
    "gif": Spec(alpha=True, colour_profile=False, quality=False, animation_save=True, hdr=False),
    "tiff": Spec(alpha=True, colour_profile=True, quality=True, animation_save=False, hdr=True),
    "bmp": Spec(alpha=True, colour_profile=False, quality=False, animation_save=False, hdr=False),
    "ico": Spec(alpha=True, colour_profile=False, quality=False, animation_save=False, hdr=False),
    "heic": Spec(alpha=True, colour_profile=True, quality=True, animation_save=False, hdr=False),
    "jxl": Spec(alpha=True, colour_profile=True, quality=True, animation_save=False, hdr=True),
    "svg": Spec(alpha=True, colour_profile=False, quality=False, animation_save=False, hdr=False),
}
ALPHA_FORMATS = frozenset(f for f, s in SPECS.items() if s.alpha)
# imgproxy's IMGPROXY_PREFERRED_FORMATS default: kept when the source is one of them, and
# searched in this order otherwise.
PREFERRED = ("jpeg", "png", "gif")
# Formats whose sources can be animated (imgproxy: SupportsAnimationLoad).
ANIMATED_SOURCES = frozenset({"gif", "webp", "jxl"})
# The order imgproxy tries client preferences in (JXL is not negotiated here).
NEGOTIATED = ("avif", "webp")


@dataclass(frozen=True)
class Choice:
    format: str  # a format, AUTO, or AUTO with the formats Accept allows: "auto:webp"
    vary_accept: bool  # the answer depends on the Accept header


def choose(
    explicit: str | None, accept: str, auto_webp: bool, auto_avif: bool, best: bool = False
) -> Choice:
    """`best`: PREVIEWS_BEST_FORMAT_BY_DEFAULT, for URLs that name no format."""
    accepted = accept.lower()
    if explicit == BEST or (best and not explicit):
        # Asking for the best format is asking for negotiation: WebP and AVIF are candidates
        # wherever the client takes them, whatever PREVIEWS_AUTO_* say.
        allowed = [f for f in NEGOTIATED if f"image/{f}" in accepted]
        return Choice(":".join((BEST, *allowed)), True)
    if explicit:
        return Choice(explicit, False)
    enabled = {"avif": auto_avif, "webp": auto_webp}
    allowed = [f for f in NEGOTIATED if enabled[f] and f"image/{f}" in accepted]
    return Choice(":".join((AUTO, *allowed)), auto_webp or auto_avif)


def allowed_by(requested: str) -> tuple[str, ...]:
    """The negotiated formats an `auto...` or `best...` choice carries (none for a format)."""
    head, *allowed = requested.split(":")
    return tuple(allowed) if head in (AUTO, BEST) else ()


def is_auto(requested: str) -> bool:
    return requested.split(":", 1)[0] == AUTO


def is_best(requested: str) -> bool:
    return requested.split(":", 1)[0] == BEST


def resolve(requested: str, source: str, transparent: bool, animated: bool) -> str:
    """The concrete output format for a render (imgproxy's determineOutputFormat).

    `transparent`: the result may have transparency (alpha, or padding/extend without a
    background); `animated`: the source is animated and animation is kept.
    """
    if not is_auto(requested):
        return requested
    allowed = allowed_by(requested)
    if "avif" in allowed and not animated:
        return "avif"
    if "webp" in allowed:
        return "webp"
    if source in PREFERRED:
        return source
    for fmt in PREFERRED:
        spec = SPECS[fmt]
        if (spec.animation_save or not animated) and (spec.alpha or not transparent):
            return fmt
    return PREFERRED[0]
