"""Our BMP, ICO and HEIC writers, read back by Pillow and pillow-heif (proxy.previews.writers)."""

import io
import struct

import numpy as np
import pytest
import pyvips
from PIL import Image as PILImage

from proxy.errors import Unprocessable
from proxy.previews import writers


def ramp(width: int, height: int, bands: int = 3) -> pyvips.Image:
    """Every pixel different: x in red, y in green, x+y in blue (and a falling alpha)."""
    x, y = np.meshgrid(np.arange(width), np.arange(height))
    channels = [x * 7 % 256, y * 11 % 256, (x + y) * 3 % 256, 255 - x % 256][:bands]
    array = np.stack(channels, axis=2).astype(np.uint8)
    space = "srgb" if bands >= 3 else "b-w"
    return pyvips.Image.new_from_array(array).copy(interpretation=space)


def pixels(image: pyvips.Image) -> np.ndarray:
    return np.asarray(image.numpy())


def pillow(body: bytes) -> np.ndarray:
    with PILImage.open(io.BytesIO(body)) as picture:
        picture.load()
        return np.asarray(picture)


def test_bmp_rgb_is_top_down_bgr_behind_a_v5_header_and_reads_back_exactly() -> None:
    image = ramp(13, 5)  # 39 bytes a row: padded to 40
    body = writers.bmp(image)
    offset, info_size, width, height, planes, bpp, compression = struct.unpack_from(
        "<IIiiHHI", body, 10
    )
    assert body[:2] == b"BM" and struct.unpack_from("<I", body, 2)[0] == len(body)
    assert (info_size, width, height, planes, bpp, compression) == (124, 13, -5, 1, 24, 0)
    assert len(body) == offset + 40 * 5
    assert body[offset : offset + 3] == bytes(pixels(image)[0, 0, ::-1])  # B, G, R
    assert np.array_equal(pillow(body), pixels(image))


def bgra_rows(body: bytes, width: int, height: int) -> np.ndarray:
    """The pixel array of a top-down 32-bit BMP as RGBA (Pillow would drop the alpha)."""
    offset = struct.unpack_from("<I", body, 10)[0]
    raw = np.frombuffer(body, np.uint8, width * height * 4, offset).reshape(height, width, 4)
    return raw[:, :, [2, 1, 0, 3]]


def test_bmp_rgba_keeps_its_alpha() -> None:
    image = ramp(6, 4, bands=4)
    body = writers.bmp(image)
    assert struct.unpack_from("<H", body, 28)[0] == 32
    masks = struct.unpack_from("<IIII", body, 14 + 40)
    assert masks == (0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    assert np.array_equal(bgra_rows(body, 6, 4), pixels(image))
    assert np.array_equal(pillow(body), pixels(image)[:, :, :3])


def test_bmp_grey_has_a_256_entry_palette_and_a_short_header() -> None:
    image = ramp(5, 3, bands=1)
    body = writers.bmp(image)
    offset, info_size = struct.unpack_from("<II", body, 10)
    bpp, colours = struct.unpack_from("<H", body, 28)[0], struct.unpack_from("<I", body, 46)[0]
    assert (info_size, bpp, colours, offset) == (40, 8, 256, 14 + 40 + 1024)
    assert body[54 + 4 * 200 : 54 + 4 * 201] == bytes((200, 200, 200, 0))
    assert np.array_equal(pillow(body), pixels(image))


def test_deep_and_grey_alpha_images_are_written_as_eight_bit_colour() -> None:
    deep = (ramp(4, 4).cast("ushort") * 257).copy(interpretation="rgb16")
    assert np.array_equal(pillow(writers.bmp(deep)), pixels(ramp(4, 4)))
    grey_alpha = ramp(4, 4, bands=1).bandjoin(128)
    body = writers.bmp(grey_alpha)
    assert struct.unpack_from("<H", body, 28)[0] == 32
    out = bgra_rows(body, 4, 4)
    assert (out[:, :, 3] == 128).all()
    assert (out[:, :, 0] == out[:, :, 1]).all()


def test_ico_is_one_png_behind_a_one_entry_directory() -> None:
    image = ramp(256, 20, bands=4)
    body = writers.ico(image)
    reserved, kind, count = struct.unpack_from("<HHH", body, 0)
    width, height, _, _, planes, bpp, size, offset = struct.unpack_from("<BBBBHHII", body, 6)
    assert (reserved, kind, count) == (0, 1, 1)
    assert (width, height, planes, bpp, offset) == (0, 20, 1, 32, 22)  # 0 means 256
    assert body[22:30] == b"\x89PNG\r\n\x1a\n" and len(body) == 22 + size
    assert np.array_equal(pillow(body[22:]), pixels(image))
    with PILImage.open(io.BytesIO(body)) as icon:
        assert icon.format == "ICO" and icon.size == (256, 20)


def test_ico_rgb_is_24_bits_and_over_256_pixels_is_422() -> None:
    assert struct.unpack_from("<H", writers.ico(ramp(16, 16)), 12)[0] == 24
    for size in ((257, 10), (10, 257)):
        with pytest.raises(Unprocessable) as caught:
            writers.ico(ramp(*size))
        assert caught.value.status == 422 and "256" in caught.value.reason


def test_heic_is_written_at_the_quality_asked() -> None:
    import pillow_heif

    image = pyvips.Image.gaussnoise(64, 48, mean=128, sigma=40).cast("uchar")
    image = image.bandjoin([image, image]).copy(interpretation="srgb")
    low, high = writers.heic(image, 20), writers.heic(image, 90)
    assert len(low) < len(high)
    picture = pillow_heif.open_heif(high)
    assert picture.size == (64, 48) and not picture.has_alpha
    assert pillow_heif.open_heif(writers.heic(ramp(16, 16, bands=4), 50)).has_alpha
