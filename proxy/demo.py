"""A sample image under DATA_PATH/storage, so a fresh checkout has something to show."""

from __future__ import annotations

from proxy.settings import Settings

SAMPLE_BUCKET = "sample-public"
SAMPLE_KEY = "images/sample.jpg"


def seed_sample(settings: Settings) -> list[str]:
    """Write the sample (once) and return paths worth opening."""
    if settings.storage.provider == "http":
        target = settings.storage.root / SAMPLE_BUCKET / SAMPLE_KEY
        if not target.exists():
            import pyvips

            target.parent.mkdir(parents=True, exist_ok=True)
            # A colourful gradient with text: recognisable at any preview size.
            x = pyvips.Image.xyz(1600, 1000)
            red = x[0] * 255 / 1600
            green = x[1] * 255 / 1000
            blue = (x[0] + x[1]) * 255 / 2600
            image = red.bandjoin([green, blue]).cast("uchar").copy(interpretation="srgb")
            text = pyvips.Image.text("preview proxy", dpi=600, font="sans bold").cast("uchar")
            image = image.insert(
                image.new_from_image([255, 255, 255]).cast("uchar").extract_area(0, 0, 1, 1), 0, 0
            )
            overlay = (
                text.new_from_image([255, 255, 255]).bandjoin(text).copy(interpretation="srgb")
            )
            image = image.composite2(overlay, "over", x=100, y=400).flatten()
            image.jpegsave(str(target), Q=88)
    return [
        f"/{SAMPLE_BUCKET}/{SAMPLE_KEY}",
        f"/previews/q/ext:jpeg/resize:fill:300:0:0/q:70/plain/{SAMPLE_BUCKET}/{SAMPLE_KEY}",
        f"/previews/300x,webp,q70/{SAMPLE_BUCKET}/{SAMPLE_KEY}",
        "/health",
        "/metrics",
    ]
