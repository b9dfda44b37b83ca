import numpy as np
import pytest
import pyvips

from proxy.blob import Blob
from proxy.converter.images import convert_image
from proxy.errors import Unprocessable, UnsupportedMediaType
from proxy.formats import CONTENT_TYPES
from proxy.limits import SourceLimits
from proxy.sniff import sniff
from tests.conftest import encode_image
from tests.converter import media

LIMITS = SourceLimits(max_pixels=50_000_000, max_file_size=100 * 1024 * 1024)


def convert(body: bytes, fmt: str | None = None, limits: SourceLimits = LIMITS):
    output = convert_image(Blob(len(body), body=body), sniff(body), fmt, limits)
    return output, pyvips.Image.new_from_buffer(output.body, "")


def test_16bit_gradient_is_stretched_to_8bit_keeping_its_order():
    output, image = convert(media.tiff16(media.gradient16()))
    assert output.format == "png"
    assert (image.width, image.height, image.bands, image.format) == (256, 8, 1, "uchar")
    row = image.numpy()[0]
    assert row[0] == 0 and row[-1] == 255  # its own range, not 0-65535
    assert np.all(np.diff(row.astype(int)) >= 0)
    assert len(np.unique(row)) > 200  # still a ramp, not a few bands


def test_float_tiff_with_nan_is_scaled_by_its_finite_range():
    array = np.linspace(-1.0, 1.0, 64, dtype=np.float32).reshape(8, 8)
    array[0, 0] = np.nan
    tiff = pyvips.Image.new_from_array(array).tiffsave_buffer()
    _, image = convert(tiff)
    pixels = image.numpy()
    assert pixels.max() == 255 and pixels[0, 0] == 0


def test_first_page_of_a_multipage_tiff():
    _, image = convert(media.multipage_tiff([(40, 30), (80, 60), (10, 10)]))
    assert (image.width, image.height) == (40, 30)


def test_cmyk_tiff_becomes_srgb():
    _, image = convert(media.cmyk_tiff())
    assert image.bands == 3 and image.interpretation == "srgb"
    red, green, blue = (image[i].avg() for i in range(3))
    assert red > 180 and green < 80 and blue < 80


def test_heic_becomes_jpeg():
    output, image = convert(media.heic(64, 48))
    assert output.format == "jpeg" and CONTENT_TYPES[output.format] == "image/jpeg"
    assert (image.width, image.height, image.bands) == (64, 48, 3)
    assert image[1].avg() > 150 and image[0].avg() < 80  # green survives


def test_bmp_becomes_png():
    output, image = convert(media.bmp(30, 20))
    assert output.format == "png"
    assert (image.width, image.height) == (30, 20)
    assert image[0].avg() > 240


def test_mpo_gives_its_first_image_as_jpeg():
    body = media.mpo(((40, 30), (20, 10)))
    assert sniff(body).kind == "mpo"
    output, image = convert(body)
    assert output.format == "jpeg"
    assert (image.width, image.height) == (40, 30)


def test_nrrd_16bit_is_windowed_to_8bit(tmp_path):
    array = np.tile(np.arange(300, 1300, 10, dtype=np.uint16), (20, 1))  # 20 x 100
    _, image = convert(media.nrrd_bytes(array, tmp_path))
    assert (image.width, image.height, image.format) == (100, 20, "uchar")
    row = image.numpy()[0]
    assert row[0] == 0 and row[-1] == 255 and np.all(np.diff(row.astype(int)) > 0)


def test_nrrd_3d_volume_is_refused(tmp_path):
    body = media.nrrd_bytes(np.zeros((4, 5, 6), np.uint8), tmp_path)
    with pytest.raises(Unprocessable, match="2D"):
        convert(body)


def test_format_override():
    output, image = convert(media.tiff16(media.gradient16()), fmt="webp")
    assert CONTENT_TYPES[output.format] == "image/webp"
    assert image.get("vips-loader").startswith("webpload")


def test_resolution_limit_is_checked_before_decoding():
    body = encode_image(400, 300, ".tif")
    with pytest.raises(Unprocessable, match="megapixels"):
        convert(body, limits=SourceLimits(max_pixels=100_000, max_file_size=10**9))


def test_unsupported_type_names_it():
    with pytest.raises(UnsupportedMediaType, match="application/pdf"):
        convert(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n")
    with pytest.raises(UnsupportedMediaType, match="video/mp4"):
        convert(media.video("mp4", "mpeg4", frames=2))


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_truncated_tiff_is_unprocessable():
    body = media.tiff16(media.gradient16(256, 64))
    with pytest.raises(Unprocessable):
        convert(body[: len(body) // 2])


def test_a_header_claiming_a_huge_image_is_refused_before_decoding():
    header = b"NRRD0004\ntype: uint8\ndimension: 2\nsizes: 100000 100000\nencoding: raw\n\n"
    with pytest.raises(Unprocessable, match="megapixels"):
        convert(header + bytes(64))
