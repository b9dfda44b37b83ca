"""Opening a source: format, header without decoding pixels, shrink-on-load and full decodes (proxy.previews.decode)."""

import numpy as np
import pytest
import pyvips

from proxy.blob import Blob
from proxy.errors import Unprocessable, UnsupportedMediaType
from proxy.previews import decode
from proxy.previews.geometry import make_plan
from proxy.previews.options import Options
from tests.conftest import encode_image
from tests.converter import media
from tests.previews.conftest import gif_animation, png_declaring, with_alpha

BIG = 50_000_000
SVG_SIZE = 1 << 20


def header(data: bytes, auto_rotate: bool = True, max_pixels: int = BIG) -> decode.Header:
    return decode.read_header(Blob.of_bytes(data), auto_rotate, max_pixels, SVG_SIZE)


def svg(width: int, height: int, inner: str = "") -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" fill="#0f0"/>{inner}</svg>'
    ).encode()


def test_what_is_not_an_image_or_not_a_source_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="source is not an image"):
        decode.source_format(Blob.of_bytes(b"plain words, nothing more\n" * 10))
    with pytest.raises(UnsupportedMediaType, match="unsupported source format application/pdf"):
        decode.source_format(Blob.of_bytes(b"%PDF-1.4\n%..."))
    with pytest.raises(UnsupportedMediaType, match="image/jp2"):
        decode.source_format(Blob.of_bytes(b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64)))


def test_sniffed_formats_use_imgproxys_names() -> None:
    assert decode.source_format(Blob.of_bytes(media.heic())) == "heic"
    assert decode.source_format(Blob.of_bytes(media.mpo())) == "jpeg"
    assert decode.source_format(Blob.of_bytes(svg(4, 4))) == "svg"


def test_a_declared_canvas_is_read_from_the_header_alone() -> None:
    # 30000 x 30000 declared, one pixel stored: decoding would fail or cost gigabytes.
    found = header(png_declaring(30000, 30000))
    assert (found.format, found.width, found.height, found.pages) == ("png", 30000, 30000, 1)


def test_corrupt_data_behind_a_good_signature_is_422() -> None:
    with pytest.raises(Unprocessable, match="corrupt"):
        header(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)


def test_exif_orientations_that_turn_the_image_swap_its_sides() -> None:
    for orientation, upright in ((1, (60, 30)), (3, (60, 30)), (6, (30, 60)), (8, (30, 60))):
        image = pyvips.Image.black(60, 30).copy()
        image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
        data = image.jpegsave_buffer()
        assert (header(data).width, header(data).height) == upright
        assert (header(data, auto_rotate=False).width, header(data, False).height) == (60, 30)


def test_animation_pages_and_frame_height() -> None:
    animated = header(gif_animation(3, 4, 2))
    assert (animated.width, animated.height, animated.pages, animated.animated) == (4, 2, 3, True)
    pages = header(media.multipage_tiff([(40, 30), (40, 30)]))
    assert pages.pages == 2 and not pages.animated  # pages, but no delays or loop
    still = header(encode_image(8, 8, ".gif"))
    assert (still.pages, still.animated) == (1, False)


def test_alpha_and_depth() -> None:
    assert header(with_alpha(8, 8)).has_alpha and not header(with_alpha(8, 8)).deep
    assert not header(encode_image(8, 8)).has_alpha
    deep = header(media.tiff16(media.gradient16(16, 4)))
    assert deep.deep and (deep.width, deep.height) == (16, 4)


def test_foreign_sources_are_described_without_libvips() -> None:
    found = header(media.bmp(30, 20))
    assert found == decode.Header("bmp", 30, 20, 1, False, False, False)
    assert not found.shrinks_on_load
    assert header(encode_image(8, 8)).shrinks_on_load


def test_an_svg_header_carries_the_sanitised_drawing() -> None:
    found = header(svg(40, 20, "<script>alert(1)</script>"))
    assert (found.format, found.width, found.height, found.has_alpha) == ("svg", 40, 20, True)
    assert found.svg is not None and b"script" not in found.svg
    assert found.shrinks_on_load and found.vector_scale == 1.0


def test_an_svg_over_the_size_limit_is_refused_before_parsing() -> None:
    data = svg(4, 4, "<!--" + "x" * 200 + "-->")
    with pytest.raises(Unprocessable, match="over the limit"):
        decode.read_header(Blob.of_bytes(data), True, BIG, len(data) - 1)
    assert decode.read_header(Blob.of_bytes(data), True, BIG, len(data)).width == 4


def test_an_svg_over_the_resolution_limit_is_rendered_smaller_not_refused() -> None:
    found = header(svg(4000, 1000), max_pixels=1_000_000)
    assert found.width * found.height <= 1_000_000 and found.width == 4 * found.height
    assert found.vector_scale == pytest.approx(0.5)
    full = decode.full(Blob.of_bytes(b""), found, 1, False, False)
    assert (full.width, full.height) == (found.width, found.height)


def test_an_svg_that_cannot_be_rendered_is_422() -> None:
    with pytest.raises(Unprocessable):
        header(b'<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0"></svg>')


@pytest.mark.parametrize("on_disk", [False, True])
def test_thumbnail_shrinks_on_load_to_the_plan(tmp_path, on_disk: bool) -> None:  # type: ignore[no-untyped-def]
    data = encode_image(400, 300)
    blob = Blob.of_bytes(data)
    if on_disk:
        path = tmp_path / "0123abcd"
        path.write_bytes(data)
        blob = Blob.of_file(path, len(data))
    found = decode.read_header(blob, True, BIG, SVG_SIZE)
    plan = make_plan(found.width, found.height, Options(width=100))
    image = decode.thumbnail(blob, found, plan, 0, True, 1, False)
    assert (image.width, image.height) == (100, 75)
    turned = decode.thumbnail(blob, found, plan, 90, True, 1, False)
    assert (turned.width, turned.height) == (75, 100)  # the requested rotation comes later


def test_full_decodes_every_frame_asked_for_and_frames_splits_them() -> None:
    blob = Blob.of_bytes(gif_animation(3, 4, 2))
    found = decode.read_header(blob, True, BIG, SVG_SIZE)
    stacked = decode.full(blob, found, 3, False, False)
    assert (stacked.width, stacked.height) == (4, 6)
    frames = decode.frames(stacked)
    assert [(f.width, f.height) for f in frames] == [(4, 2)] * 3
    assert [f.getpoint(0, 0)[0] for f in frames] == [0, 255, 0]  # black, red, green
    assert decode.frames(decode.full(blob, found, 1, False, False))[0].height == 2


def test_cmyk_is_colour_managed_into_srgb_and_plain_rgb_left_alone() -> None:
    rgb = pyvips.Image.new_from_buffer(encode_image(8, 8), "")
    assert decode.to_srgb(rgb) is rgb
    cmyk = pyvips.Image.new_from_buffer(media.cmyk_tiff(), "")
    converted = decode.to_srgb(cmyk)
    assert (converted.interpretation, converted.bands) == ("srgb", 3)
    r, g, b = converted.getpoint(0, 0)
    assert r > 180 and g < 80 and b < 80


def test_float_grey_is_read_as_linear_light() -> None:
    linear = pyvips.Image.new_from_array(np.full((2, 2), 0.5, np.float32)).copy(
        interpretation="b-w"
    )
    fixed = decode.fix_float(linear)
    assert (fixed.format, fixed.interpretation) == ("ushort", "grey16")
    # Linear 0.5 is sRGB's 0.735: brighter than the value read as gamma-encoded grey.
    assert fixed.getpoint(0, 0)[0] == pytest.approx(0.735 * 65535, rel=0.01)
    eight_bit = pyvips.Image.black(2, 2)
    assert decode.fix_float(eight_bit) is eight_bit
