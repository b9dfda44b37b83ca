"""The renderer on real encoded images: colour, orientation, depth, alpha, animation, encoding."""

import struct

import pytest
import pyvips

from proxy.blob import Blob
from proxy.errors import Unprocessable, UnsupportedMediaType
from proxy.limits import SourceLimits
from proxy.previews.args import RenderSettings
from proxy.previews.copyright import PS3_HEADER
from proxy.previews.parse import Rules, parse_options
from proxy.previews.render import Rendered, render
from proxy.sniff import sniff
from tests.conftest import encode_image
from tests.previews.conftest import decode, png_declaring, with_alpha

SOURCE_LIMITS = SourceLimits(max_pixels=50_000_000, max_file_size=100 << 20)
LIMITS = RenderSettings(SOURCE_LIMITS, quality=80, format_quality={})


def run(
    data: bytes,
    *segments: str,
    fmt: str = "auto",
    limits: RenderSettings = LIMITS,
    security: bool = False,
) -> Rendered:
    rules = Rules(allow_security_options=security)
    return render(Blob.of_bytes(data), parse_options(segments, rules), fmt, limits)


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> pyvips.Image:
    image = pyvips.Image.black(width, height).new_from_image(list(rgb))
    return image.cast("uchar").copy(interpretation="srgb")


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif", "gif", "tiff"])
def test_each_format_by_magic_bytes(fmt):
    rendered = run(encode_image(64, 48), "w:32", fmt=fmt)
    assert rendered.format == fmt
    assert sniff(rendered.body).format == fmt
    assert decode(rendered.body).width == 32


def test_auto_format_keeps_jpeg_png_gif_else_jpeg_or_png_with_alpha():
    assert run(encode_image(32, 32, ".png"), "w:16").format == "png"
    assert run(encode_image(32, 32, ".gif"), "w:16").format == "gif"
    assert run(encode_image(32, 32, ".webp"), "w:16").format == "jpeg"
    webp_alpha = decode(with_alpha(32, 32)).webpsave_buffer()
    assert run(webp_alpha, "w:16").format == "png"


def test_quality_changes_size():
    source = encode_image(400, 300)
    low = run(source, "q:20", fmt="jpeg").body
    high = run(source, "q:95", fmt="jpeg").body
    assert len(low) < len(high) * 0.7


def test_format_quality_and_default_quality():
    source = encode_image(400, 300)
    fq = run(source, "fq:jpeg:20", fmt="jpeg").body
    assert fq == run(source, "q:20", fmt="jpeg").body
    configured = RenderSettings(SOURCE_LIMITS, quality=80, format_quality={"jpeg": 20})
    assert run(source, fmt="jpeg", limits=configured).body == fq


def test_avif_is_written_as_imgproxy_writes_it():
    # vips_avifsave_go: Q, AV1, effort 9 - IMGPROXY_AVIF_SPEED (8); strip resets to 72 dpi.
    source = encode_image(64, 48, ".png")
    expected = decode(source).copy(xres=72 / 25.4, yres=72 / 25.4)
    body = expected.heifsave_buffer(Q=63, compression="av1", effort=1, keep="none")
    avif = RenderSettings(SOURCE_LIMITS, quality=80, format_quality={"avif": 63})
    assert run(source, fmt="avif", limits=avif).body == body


def test_max_bytes_lowers_quality_until_it_fits():
    source = encode_image(400, 300)
    full = run(source, "q:90", fmt="jpeg").body
    limited = run(source, "q:90", f"mb:{len(full) // 3}", fmt="jpeg").body
    assert len(limited) <= len(full) // 3


def _exif_jpeg() -> bytes:
    image = solid(60, 30, (200, 10, 10)).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "ACME Camera")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Copyright", "Jane Doe")
    return image.jpegsave_buffer()


def test_metadata_is_stripped_but_copyright_kept_by_default():
    out = decode(run(_exif_jpeg(), "w:30", fmt="jpeg").body)
    fields = out.get_fields()
    assert "exif-ifd0-Make" not in fields
    assert "Jane Doe" in out.get("exif-ifd0-Copyright")


def test_keep_copyright_off_and_strip_metadata_off():
    stripped = decode(run(_exif_jpeg(), "kcr:0", fmt="jpeg").body).get_fields()
    assert not any(f.startswith("exif-ifd0-Make") or f.endswith("Copyright") for f in stripped)
    kept = decode(run(_exif_jpeg(), "sm:0", fmt="jpeg").body)
    assert "ACME" in kept.get("exif-ifd0-Make")


def _iptc_record(tag: int, text: str) -> bytes:
    data = text.encode()
    return b"\x1c\x02" + bytes([tag]) + struct.pack(">H", len(data)) + data


XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
    b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
    b"<dc:rights>(c) Jane Doe</dc:rights><xmp:CreatorTool>Secret Tool</xmp:CreatorTool>"
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)


def _iptc_xmp_jpeg() -> bytes:
    records = (
        _iptc_record(80, "Jane Doe") + _iptc_record(5, "Secret title") + _iptc_record(116, "(c)")
    )
    block = (
        PS3_HEADER + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(records)) + records + b"\x00"
    )
    image = solid(60, 30, (200, 10, 10)).copy(xres=300 / 25.4, yres=300 / 25.4)
    image.set_type(pyvips.GValue.blob_type, "iptc-data", block)
    image.set_type(pyvips.GValue.blob_type, "xmp-data", XMP)
    return image.jpegsave_buffer(keep="all")


def test_keep_copyright_keeps_only_the_copyright_iptc_and_xmp_and_resets_the_resolution():
    # imgproxy's vips_strip: IPTC By-line, Credit and Copyright notice; XMP's dc rights,
    # contributor, creator, publisher and the xmpRights/cc namespaces; 72 dpi.
    out = decode(run(_iptc_xmp_jpeg(), "w:30", fmt="jpeg").body)
    iptc = out.get("iptc-data")
    assert b"Jane Doe" in iptc and b"(c)" in iptc and b"Secret title" not in iptc
    xmp = out.get("xmp-data")
    assert b"(c) Jane Doe" in xmp and b"Secret Tool" not in xmp
    assert round(out.xres * 25.4) == 72
    stripped = decode(run(_iptc_xmp_jpeg(), "kcr:0", fmt="jpeg").body).get_fields()
    assert "iptc-data" not in stripped and "xmp-data" not in stripped
    kept = decode(run(_iptc_xmp_jpeg(), "sm:0", fmt="jpeg").body)
    assert b"Secret Tool" in kept.get("xmp-data") and round(kept.xres * 25.4) == 300


def test_exif_orientation_is_applied_unless_disabled():
    image = solid(60, 30, (0, 0, 0)).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)  # stored sideways
    data = image.jpegsave_buffer()
    upright = decode(run(data, fmt="png").body)
    assert (upright.width, upright.height) == (30, 60)
    raw = decode(run(data, "ar:0", fmt="png").body)
    assert (raw.width, raw.height) == (60, 30)


def test_cmyk_jpeg_becomes_srgb():
    data = solid(40, 40, (200, 40, 30)).colourspace("cmyk").jpegsave_buffer(Q=95)
    out = decode(run(data, fmt="png").body)
    assert out.interpretation == "srgb" and out.bands == 3
    r, g, b = out.getpoint(20, 20)
    assert r > 150 and g < 100 and b < 100


def test_16_bit_png():
    image = (solid(40, 40, (200, 40, 30)).cast("ushort") * 257).copy(interpretation="rgb16")
    out = decode(run(image.pngsave_buffer(), "w:20", fmt="jpeg").body)
    assert out.format == "uchar" and out.width == 20
    r, g, _b = out.getpoint(10, 10)
    assert abs(r - 200) < 8 and abs(g - 40) < 8


def test_alpha_is_flattened_onto_the_background_for_jpeg():
    out = decode(run(with_alpha(40, 20), fmt="jpeg").body)
    assert out.bands == 3
    assert out.getpoint(35, 10)[0] > 245 and out.getpoint(35, 10)[1] > 245  # white
    green = decode(run(with_alpha(40, 20), "bg:00ff00", fmt="jpeg").body)
    assert green.getpoint(35, 10)[1] > 200 and green.getpoint(35, 10)[0] < 50


def test_alpha_is_kept_for_png():
    out = decode(run(with_alpha(40, 20), fmt="png").body)
    assert out.hasalpha() and out.getpoint(35, 10)[3] == 0


def test_icc_profile_is_converted_to_srgb_and_stripped():
    p3 = solid(32, 32, (200, 50, 30)).icc_transform("p3", input_profile="srgb")
    data = p3.jpegsave_buffer(Q=98, keep="icc")
    assert decode(data).getpoint(5, 5)[:1] != [200.0]
    out = decode(run(data, fmt="png").body)
    assert not out.get_typeof("icc-profile-data")
    r, g, b = out.getpoint(5, 5)
    assert abs(r - 200) < 6 and abs(g - 50) < 6 and abs(b - 30) < 6
    # scp:0: the original profile goes out with the original colour values (imgproxy's
    # colorspaceToResult), through shrink-on-load and filters as well.
    for segments in (("scp:0",), ("scp:0", "w:16", "bl:1")):
        kept = decode(run(data, *segments, fmt="png").body)
        assert kept.get("icc-profile-data") == decode(data).get("icc-profile-data")
        original = decode(data).getpoint(5, 5)
        assert all(abs(a - b) < 3 for a, b in zip(kept.getpoint(5, 5), original, strict=True))


def _two_colours() -> pyvips.Image:
    return solid(40, 20, (10, 20, 30)).embed(0, 0, 80, 20, extend="white")


@pytest.mark.parametrize("segments", [(), ("w:40",), ("w:40", "bl:1"), ("t:1",)])
def test_a_palette_png_stays_a_palette_png_of_its_depth(segments):
    # imgproxy's vips_pngsave_go: quantised to the source palette's bits (1, 2, 4 or 8).
    body = run(_two_colours().pngsave_buffer(palette=True, bitdepth=4), *segments, fmt="png").body
    bit_depth, colour_type = body[24], body[25]  # IHDR
    assert (bit_depth, colour_type) == (4, 3)
    truecolour = run(_two_colours().pngsave_buffer(), *segments, fmt="png").body
    assert truecolour[25] == 2


def test_a_gif_keeps_its_palettes_bits():
    source = _two_colours().gifsave_buffer(bitdepth=2)
    out = decode(run(source, "w:40", fmt="gif").body)
    assert out.get("bits-per-sample") == 2  # 4 colours, though resizing made more


def _animation() -> bytes:
    frames = [solid(40, 30, (i * 100, 0, 0)) for i in range(3)]
    image = pyvips.Image.arrayjoin(frames, across=1).copy()
    image.set_type(pyvips.GValue.gint_type, "page-height", 30)
    image.set_type(pyvips.GValue.array_int_type, "delay", [100, 100, 100])
    return image.gifsave_buffer()


def test_animated_gif_keeps_its_frames_as_gif():
    out = run(_animation(), "rs:fill:20:20")
    assert out.format == "gif"
    image = pyvips.Image.new_from_buffer(out.body, "", n=-1)
    assert image.get("n-pages") == 3
    assert (image.width, image.get("page-height")) == (20, 20)


def test_animated_gif_to_png_is_the_first_frame():
    image = decode(run(_animation(), "w:20", fmt="png").body)
    assert (image.width, image.height) == (20, 15)
    assert image.getpoint(5, 5)[0] < 10


def test_trim_removes_a_plain_border():
    framed = solid(100, 80, (0, 0, 0)).embed(20, 10, 140, 100, extend="white")
    out = decode(run(framed.pngsave_buffer(), "t:10", fmt="png").body)
    assert (out.width, out.height) == (100, 80)


def test_trim_works_on_the_stored_orientation():
    # imgproxy trims before any rotation: equal_hor means the stored image's sides. The
    # border is on the stored right (the shown bottom); equal_hor keeps the smaller margin,
    # none, on both sides, so nothing is cut. Trimming after rotating would cut 20 rows.
    stored = solid(80, 50, (0, 0, 0)).embed(0, 0, 100, 50, extend="white").copy()
    stored.set_type(pyvips.GValue.gint_type, "orientation", 6)
    out = decode(run(stored.jpegsave_buffer(Q=95), "t:10:fff:1", fmt="png").body)
    assert (out.width, out.height) == (50, 100)
    plain = decode(run(stored.jpegsave_buffer(Q=95), "t:10:fff", fmt="png").body)
    assert (plain.width, plain.height) == (50, 80)


def test_trim_is_not_applied_to_animations():
    frames = [solid(40, 30, (i * 100, 0, 0)).embed(5, 5, 50, 40, extend="white") for i in range(3)]
    image = pyvips.Image.arrayjoin(frames, across=1).copy()
    image.set_type(pyvips.GValue.gint_type, "page-height", 40)
    image.set_type(pyvips.GValue.array_int_type, "delay", [100, 100, 100])
    source = image.gifsave_buffer()
    animated = pyvips.Image.new_from_buffer(run(source, "t:10", fmt="gif").body, "", n=-1)
    assert (animated.width, animated.get("page-height"), animated.get("n-pages")) == (50, 40, 3)
    still = decode(run(source, "t:10", fmt="png").body)  # one frame: trimmed as imgproxy does
    assert (still.width, still.height) == (40, 30)


@pytest.mark.parametrize("segment", ["bl:2", "sh:1", "pix:8", "fl:1:1", "rot:270", "g:sm"])
def test_filters_render(segment):
    out = decode(run(encode_image(64, 48), "rs:fill:32:32", segment, fmt="png").body)
    assert (out.width, out.height) == (32, 32)


def test_raw_and_skip_processing_return_the_source():
    source = encode_image(64, 48, ".png")
    assert run(source, "raw:1", "w:10").body == source
    assert run(source, "skp:png", "w:10").body == source
    assert run(source, "skp:png", "w:10", fmt="png").body == source
    # Another output format is asked for: imgproxy processes then.
    assert run(source, "skp:png", "w:10", fmt="jpeg").format == "jpeg"
    assert run(source, "skp:gif", "w:10", fmt="jpeg").format == "jpeg"


def test_not_an_image_is_415():
    with pytest.raises(UnsupportedMediaType):
        run(b"%PDF-1.4 definitely not an image" * 10)


def test_truncated_image_is_422():
    data = encode_image(400, 300)
    with pytest.raises(Unprocessable):
        run(data[: len(data) // 2], "w:100", fmt="png")
    png = encode_image(400, 300, ".png")
    with pytest.raises(Unprocessable):
        run(png[: len(png) // 2], fmt="jpeg")


def test_declared_resolution_is_checked_before_decoding():
    with pytest.raises(Unprocessable) as caught:
        run(png_declaring(30000, 30000), "w:10")
    assert "resolution" in caught.value.reason


def test_result_dimension_limit_scales_down():
    out = decode(run(encode_image(64, 48), "rs:fit:200:200:1", "mrd:100", security=True).body)
    assert (out.width, out.height) == (100, 75)
