"""BMP, ICO and HEIC sources decoded by Pillow and pillow-heif (proxy.previews.foreign)."""

import struct

import numpy as np
import pytest
import pyvips
from PIL import Image as PILImage

from proxy.blob import Blob
from proxy.errors import Unprocessable
from proxy.previews import foreign, writers
from tests.converter import media


def rgba(width: int, height: int) -> pyvips.Image:
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    array = np.stack([x * 20, y * 30, x + y, 100 + x * 10], axis=2).astype(np.uint8)
    return pyvips.Image.new_from_array(array).copy(interpretation="srgb")


def bottom_up_bgra(pixels: np.ndarray, header_size: int = 40, alpha_mask: int = 0) -> bytes:
    """A 32-bit uncompressed BMP with rows bottom-up (a positive height)."""
    height, width, _ = pixels.shape
    data = pixels[::-1][:, :, [2, 1, 0, 3]].tobytes()
    info = struct.pack("<IiiHHIIiiII", header_size, width, height, 1, 32, 0, len(data), 0, 0, 0, 0)
    if header_size > 40:
        info += struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, alpha_mask)
        info += bytes(header_size - len(info))
    offset = 14 + len(info)
    return b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + data


def test_bmp_alpha_follows_imgproxys_rule() -> None:
    pixels = np.full((2, 3, 4), 90, np.uint8)
    cases = {
        bottom_up_bgra(pixels): True,  # 32 bits behind a plain header: the fourth byte is alpha
        bottom_up_bgra(pixels, 124, 0xFF000000): True,
        bottom_up_bgra(pixels, 124, 0): False,  # a V5 header that masks the alpha out
        media.bmp(3, 2): False,  # 24 bits
    }
    for data, alpha in cases.items():
        assert foreign.header(Blob.of_bytes(data), "bmp") == foreign.ForeignHeader(3, 2, alpha)


def test_32_bit_bmp_keeps_its_alpha_in_either_row_order() -> None:
    image = rgba(5, 3)
    expected = image.numpy()
    top_down = foreign.load(Blob.of_bytes(writers.bmp(image)), "bmp")
    assert top_down.interpretation == "srgb" and np.array_equal(top_down.numpy(), expected)
    bottom_up = foreign.load(Blob.of_bytes(bottom_up_bgra(expected)), "bmp")
    assert np.array_equal(bottom_up.numpy(), expected)


def test_a_masked_out_alpha_is_not_read() -> None:
    pixels = rgba(4, 2).numpy()
    loaded = foreign.load(Blob.of_bytes(bottom_up_bgra(pixels, 124, 0)), "bmp")
    assert loaded.bands == 3 and np.array_equal(loaded.numpy(), pixels[:, :, :3])


def test_bmp_from_a_file_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.bmp"
    path.write_bytes(media.bmp(30, 20))
    blob = Blob.of_file(path, path.stat().st_size)
    assert foreign.header(blob, "bmp") == foreign.ForeignHeader(30, 20, False)
    image = foreign.load(blob, "bmp")
    assert (image.width, image.height, image.bands) == (30, 20, 3)
    assert image.getpoint(5, 5) == [250, 10, 10]


def test_truncated_and_corrupt_bmps_are_422() -> None:
    whole = bottom_up_bgra(rgba(8, 8).numpy())
    with pytest.raises(Unprocessable, match="truncated"):
        foreign.load(Blob.of_bytes(whole[:-10]), "bmp")
    for garbage in (b"BM" + bytes(10), b"BM" + b"\xff" * 60):
        with pytest.raises(Unprocessable, match="corrupt"):
            foreign.header(Blob.of_bytes(garbage), "bmp")
    cut = media.bmp(40, 40)
    with pytest.raises(Unprocessable, match="corrupt"):
        foreign.load(Blob.of_bytes(cut[: len(cut) // 2]), "bmp")


def test_a_declared_huge_canvas_is_refused_from_the_header() -> None:
    # Pillow's decompression-bomb check, from the header: no pixel is there to decode.
    data = bytearray(media.bmp(4, 4))
    struct.pack_into("<ii", data, 18, 30000, 30000)
    with pytest.raises(Unprocessable, match="resolution"):
        foreign.header(Blob.of_bytes(bytes(data)), "bmp")


def test_ico() -> None:
    image = rgba(16, 8)
    blob = Blob.of_bytes(writers.ico(image))
    assert foreign.header(blob, "ico") == foreign.ForeignHeader(16, 8, True)
    assert np.array_equal(foreign.load(blob, "ico").numpy(), image.numpy())


def test_heic_header_and_pixels() -> None:
    blob = Blob.of_bytes(media.heic(64, 48))
    assert foreign.header(blob, "heic") == foreign.ForeignHeader(64, 48, False)
    image = foreign.load(blob, "heic")
    assert (image.width, image.height, image.bands, image.interpretation) == (64, 48, 3, "srgb")
    r, g, b = image.getpoint(30, 20)
    assert abs(r - 20) < 10 and abs(g - 200) < 10 and abs(b - 30) < 10
    # enforce_thumbnail with no thumbnail embedded: the primary image.
    assert foreign.header(blob, "heic", thumbnail=True).width == 64


def test_corrupt_heic_is_422() -> None:
    data = media.heic(64, 48)
    for broken in (data[:64], data[:12] + bytes(200)):
        with pytest.raises(Unprocessable, match="HEIC"):
            foreign.load(Blob.of_bytes(broken), "heic")


@pytest.mark.parametrize(
    "picture, bands, interpretation, fmt",
    [
        (PILImage.new("1", (4, 4), 1), 1, "b-w", "uchar"),
        (PILImage.new("LA", (4, 4), (9, 50)), 2, "b-w", "uchar"),
        (PILImage.new("I;16", (4, 4), 40000), 1, "grey16", "ushort"),
        (PILImage.new("CMYK", (4, 4), (0, 255, 255, 0)), 3, "srgb", "uchar"),
        (PILImage.new("P", (4, 4), 0), 3, "srgb", "uchar"),
    ],
)
def test_from_pillow_modes(picture, bands, interpretation, fmt) -> None:  # type: ignore[no-untyped-def]
    image = foreign.from_pillow(picture)
    assert (image.bands, image.interpretation, image.format) == (bands, interpretation, fmt)


def test_a_palette_with_transparency_becomes_rgba() -> None:
    picture = PILImage.new("P", (4, 4), 1)
    picture.putpalette([0, 0, 0, 255, 0, 0])
    picture.info["transparency"] = 1
    image = foreign.from_pillow(picture)
    assert image.bands == 4 and image.getpoint(0, 0) == [255, 0, 0, 0]
    assert foreign.from_pillow(PILImage.new("I;16", (1, 1), 40000)).getpoint(0, 0) == [40000]
