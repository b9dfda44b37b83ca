"""Encoding a viewable conversion: PNG, WebP or JPEG near the source, no metadata (proxy.converter.encode)."""

import pyvips

from proxy.converter.encode import QUALITY, default_format, encode
from proxy.sniff import sniff


def picture(alpha: bool = False) -> pyvips.Image:
    grey = pyvips.Image.gaussnoise(64, 48, mean=128, sigma=30)
    image = grey.bandjoin([grey, grey * 0.5])
    if alpha:
        image = image.bandjoin((pyvips.Image.xyz(64, 48)[0] < 32).ifthenelse(255, 0))
    image = image.cast("uchar").copy(interpretation="srgb")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "ACME Camera")
    return image


def test_each_format_is_written_with_no_metadata() -> None:
    for fmt in ("png", "webp", "jpeg"):
        body = encode(picture(), fmt)
        assert sniff(body).kind == fmt
        assert not pyvips.Image.new_from_buffer(body, "").get_typeof("exif-ifd0-Make"), fmt


def test_lossy_formats_use_the_converters_high_quality() -> None:
    image = picture()
    assert encode(image, "jpeg") == image.jpegsave_buffer(Q=QUALITY, keep="none")
    assert encode(image, "webp") == image.webpsave_buffer(Q=QUALITY, keep="none")
    assert QUALITY >= 90


def test_png_and_webp_keep_alpha_jpeg_flattens_it_onto_white() -> None:
    for fmt in ("png", "webp"):
        assert pyvips.Image.new_from_buffer(encode(picture(alpha=True), fmt), "").hasalpha()
    jpeg = pyvips.Image.new_from_buffer(encode(picture(alpha=True), "jpeg"), "")
    assert jpeg.bands == 3
    assert min(jpeg.getpoint(50, 20)) > 245  # transparent right half: white


def test_default_format_jpeg_only_for_opaque_lossy_sources() -> None:
    assert default_format(picture(), lossy_source=True) == "jpeg"
    assert default_format(picture(alpha=True), lossy_source=True) == "png"
    assert default_format(picture(), lossy_source=False) == "png"
