"""Encoding a processed image: savers per format, the metadata policy and max_bytes (proxy.previews.encode)."""

import struct

import pytest
import pyvips

from proxy.errors import Unprocessable
from proxy.previews import encode
from proxy.previews.copyright import PS3_HEADER
from proxy.previews.options import Options
from proxy.sniff import sniff

DPMM_72 = 72 / 25.4


def noise(width: int = 200, height: int = 150) -> pyvips.Image:
    """Photographic-ish pixels: a lossy encoder's size follows its quality."""
    grey = pyvips.Image.gaussnoise(width, height, mean=128, sigma=40)
    return grey.bandjoin([grey * 0.5, grey.rot180()]).cast("uchar").copy(interpretation="srgb")


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> pyvips.Image:
    return (
        pyvips.Image.black(width, height)
        .new_from_image(list(rgb))
        .cast("uchar")
        .copy(interpretation="srgb")
    )


@pytest.mark.parametrize("fmt", sorted(encode.SAVERS))
def test_every_saver_writes_its_format(fmt: str) -> None:
    body = encode.encode(noise(64, 48), fmt, 80, Options())
    assert sniff(body).format == fmt


def test_formats_that_cannot_be_written_are_422_and_save_insists_on_a_saver() -> None:
    encode.check_savable("jpeg")
    with pytest.raises(Unprocessable, match="only SVG sources"):
        encode.check_savable("svg")
    with pytest.raises(Unprocessable, match="cannot write psd"):
        encode.check_savable("psd")
    with pytest.raises(ValueError):
        encode.save(noise(8, 8), "svg", 80, "none")


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "avif", "heic"])
def test_lossy_formats_follow_the_quality(fmt: str) -> None:
    low = encode.encode(noise(), fmt, 20, Options())
    high = encode.encode(noise(), fmt, 90, Options())
    assert len(low) < len(high)


def test_the_jpeg_saver_is_imgproxys() -> None:
    image = noise(64, 48)
    stripped = image.copy(xres=DPMM_72, yres=DPMM_72)
    expected = stripped.jpegsave_buffer(Q=63, optimize_coding=True, keep="none")
    assert encode.encode(image, "jpeg", 63, Options()) == expected


def test_max_bytes_lowers_the_quality_by_imgproxys_steps() -> None:
    image = noise()
    full = encode.encode(image, "jpeg", 90, Options())
    limit = len(full) // 2
    fitted = encode.encode(image, "jpeg", 90, Options(max_bytes=limit))
    assert len(fitted) <= limit
    # Far too small to fit: 90 -> 22 -> 5 (a quarter each time), then it stops trying.
    tiny = encode.encode(image, "jpeg", 90, Options(max_bytes=1))
    assert tiny == encode.encode(image, "jpeg", 5, Options())


def test_max_bytes_leaves_what_fits_and_formats_without_quality_alone() -> None:
    image = noise()
    full = encode.encode(image, "jpeg", 90, Options())
    assert encode.encode(image, "jpeg", 90, Options(max_bytes=len(full))) == full
    for fmt in ("png", "tiff", "gif"):
        plain = encode.encode(image, fmt, 90, Options())
        assert encode.encode(image, fmt, 90, Options(max_bytes=100)) == plain


def test_palette_sources_keep_their_palette_depth() -> None:
    two_colours = solid(40, 20, (10, 20, 30)).embed(0, 0, 80, 20, extend="white")
    for bits in (1, 2, 4, 8):
        source = pyvips.Image.new_from_buffer(
            two_colours.pngsave_buffer(palette=True, bitdepth=bits), ""
        )
        assert encode.palette_bits(source) == bits
        body = encode.encode(source.resize(0.5), "png", 80, Options())
        assert (body[24], body[25]) == (bits, 3)  # IHDR: bit depth, palette colour type
    truecolour = pyvips.Image.new_from_buffer(two_colours.pngsave_buffer(), "")
    assert encode.palette_bits(truecolour) == 0
    assert encode.encode(truecolour, "png", 80, Options())[25] == 2
    gif = pyvips.Image.new_from_buffer(two_colours.gifsave_buffer(bitdepth=2), "")
    again = pyvips.Image.new_from_buffer(encode.encode(gif, "gif", 80, Options()), "")
    assert again.get("bits-per-sample") == 2


def with_profile_and_exif() -> pyvips.Image:
    image = solid(16, 16, (200, 50, 30)).icc_transform("p3", input_profile="srgb")
    image = image.copy(xres=300 / 25.4, yres=300 / 25.4)
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "ACME Camera")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Copyright", "Jane Doe")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "J. Doe")
    return image


def test_the_default_policy_strips_all_but_copyright_and_resets_the_resolution() -> None:
    source = with_profile_and_exif()
    image, keep = encode.metadata_policy(source, Options(), "jpeg")
    assert keep == "exif"
    fields = image.get_fields()
    assert "icc-profile-data" not in fields and "exif-ifd0-Make" not in fields
    assert "exif-ifd0-Copyright" in fields and "exif-ifd0-Artist" in fields
    assert (image.xres, image.yres) == (DPMM_72, DPMM_72)
    assert "exif-ifd0-Make" in source.get_fields()  # the caller's image is left as it was
    out = pyvips.Image.new_from_buffer(encode.encode(source, "jpeg", 90, Options()), "")
    assert "Jane Doe" in out.get("exif-ifd0-Copyright") and not out.get_typeof("exif-ifd0-Make")


def test_keep_copyright_off_keeps_nothing() -> None:
    image, keep = encode.metadata_policy(
        with_profile_and_exif(), Options(keep_copyright=False), "jpeg"
    )
    assert keep == "none" and "icc-profile-data" not in image.get_fields()


def test_strip_metadata_off_keeps_everything_and_the_resolution() -> None:
    options = Options(strip_metadata=False)
    image, keep = encode.metadata_policy(with_profile_and_exif(), options, "jpeg")
    assert keep == "exif|xmp|iptc|other"  # the profile is still stripped: another option
    assert "exif-ifd0-Make" in image.get_fields() and round(image.xres * 25.4) == 300


def test_the_colour_profile_is_kept_only_where_the_format_carries_one() -> None:
    options = Options(strip_color_profile=False)
    image, keep = encode.metadata_policy(with_profile_and_exif(), options, "png")
    assert keep == "icc|exif" and image.get_typeof("icc-profile-data")
    image, keep = encode.metadata_policy(with_profile_and_exif(), options, "gif")
    assert keep == "exif" and not image.get_typeof("icc-profile-data")


def test_iptc_and_xmp_are_replaced_by_their_copyright_parts_or_dropped() -> None:
    records = b"".join(
        b"\x1c\x02" + bytes([tag]) + struct.pack(">H", len(text)) + text
        for tag, text in ((80, b"Jane"), (5, b"Secret title"))
    )
    iptc = PS3_HEADER + b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(records)) + records
    xmp_without_rights = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        b'xmlns:xmp="http://ns.adobe.com/xap/1.0/"><xmp:CreatorTool>Tool</xmp:CreatorTool>'
        b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    source = solid(8, 8, (1, 2, 3)).copy()
    source.set_type(pyvips.GValue.blob_type, "iptc-data", iptc)
    source.set_type(pyvips.GValue.blob_type, "xmp-data", xmp_without_rights)
    image, keep = encode.metadata_policy(source, Options(), "jpeg")
    assert keep == "iptc"
    assert b"Jane" in image.get("iptc-data") and b"Secret" not in image.get("iptc-data")
    assert "xmp-data" not in image.get_fields()
