"""A sample image under DATA_PATH/storage, so a fresh checkout has something to show."""

from __future__ import annotations

from typing import cast

from proxy.settings import Settings

SAMPLE_BUCKET = "sample-public"
SAMPLE_KEY = "images/sample.jpg"


def make_sample_jpeg(width: int = 1600, height: int = 1000) -> bytes:
    """A colourful gradient with a caption: recognisable at any preview size."""
    import pyvips

    xy = pyvips.Image.xyz(width, height)
    red = xy[0] * (255 / width)
    green = xy[1] * (255 / height)
    blue = (xy[0] + xy[1]) * (255 / (width + height))
    image = red.bandjoin([green, blue]).cast("uchar").copy(interpretation="srgb")
    caption = pyvips.Image.text("preview proxy", dpi=600, font="sans bold")
    white = (caption.new_from_image([255, 255, 255]).bandjoin(caption)).copy(interpretation="srgb")
    image = image.composite2(white.cast("uchar"), "over", x=width // 16, y=height * 2 // 5)
    return cast(bytes, image.flatten().cast("uchar").jpegsave_buffer(Q=88))


def seed_sample(settings: Settings) -> list[str]:
    """Write the sample (once, local storage only) and return paths worth opening."""
    if settings.storage.provider == "http":
        target = settings.storage.root / SAMPLE_BUCKET / SAMPLE_KEY
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(make_sample_jpeg())
    return [
        f"/{SAMPLE_BUCKET}/{SAMPLE_KEY}",
        f"/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/{SAMPLE_BUCKET}/{SAMPLE_KEY}",
        f"/previews/q/rs:fit:600:600/plain/{SAMPLE_BUCKET}/{SAMPLE_KEY}@webp",
        f"/previews/300x,jpeg,q70/{SAMPLE_BUCKET}/{SAMPLE_KEY}",
        f"/image-converter/convert/{SAMPLE_BUCKET}/{SAMPLE_KEY}",
        "/health",
        "/metrics",
    ]
