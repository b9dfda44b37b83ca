"""Decoding originals: each loader's refusals, and its resolution check before decoding (proxy.converter.loaders)."""

import io

import numpy as np
import pytest
import pyvips
from PIL import Image as PILImage

from proxy.blob import Blob
from proxy.converter import loaders
from proxy.errors import Unprocessable
from proxy.limits import SourceLimits
from tests.conftest import encode_image
from tests.converter import media

LIMITS = SourceLimits(max_pixels=50_000_000, max_file_size=1 << 30)
TINY = SourceLimits(max_pixels=100, max_file_size=1 << 30)


def blob(data: bytes) -> Blob:
    return Blob.of_bytes(data)


def test_vips_reads_its_formats_from_memory_or_a_path(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = encode_image(40, 30, ".tif")
    assert loaders.load_vips(blob(data), LIMITS).width == 40
    path = tmp_path / "a.tif"
    path.write_bytes(data)
    assert loaders.load_vips(Blob.of_file(path, len(data)), LIMITS).height == 30


def test_vips_declines_what_it_does_not_know_and_loaders_that_read_anything(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert loaders.load_vips(blob(b"\x00\x01\x02 no format at all"), LIMITS) is None
    csv = tmp_path / "numbers.csv"
    csv.write_text("1,2,3\n4,5,6\n")
    matrix = tmp_path / "m.mat"
    matrix.write_text("2 2\n1 2\n3 4\n")
    assert pyvips.Image.new_from_file(str(csv)).width == 3  # libvips would read it as an image
    for path in (csv, matrix):
        assert loaders.load_vips(Blob.of_file(path, path.stat().st_size), LIMITS) is None
    svg = tmp_path / "a.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    assert loaders.load_vips(Blob.of_file(svg, svg.stat().st_size), LIMITS) is None


def test_vips_checks_the_resolution_from_the_header() -> None:
    with pytest.raises(Unprocessable, match="megapixels"):
        loaders.load_vips(blob(encode_image(20, 20, ".png")), TINY)


def test_svg_is_read_from_memory_and_its_canvas_checked_first() -> None:
    drawing = b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="4"><rect width="8" height="4"/></svg>'
    image = loaders.load_svg(blob(drawing), LIMITS)
    assert (image.width, image.height) == (8, 4)
    huge = b'<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"/>'
    with pytest.raises(Unprocessable, match="megapixels"):
        loaders.load_svg(blob(huge), LIMITS)
    with pytest.raises(Unprocessable, match="not a valid document"):
        loaders.load_svg(blob(b"<svg"), LIMITS)


def test_pillow_declines_unknown_data_and_converts_its_modes() -> None:
    assert loaders.load_pillow(blob(b"definitely not an image" * 4), LIMITS) is None
    image = loaders.load_pillow(blob(media.cmyk_tiff(8, 4)), LIMITS)
    assert image is not None and (image.bands, image.interpretation) == (3, "srgb")
    palette = PILImage.new("P", (4, 4), 0)
    palette.putpalette([10, 20, 30])
    out = io.BytesIO()
    palette.save(out, "BMP")
    loaded = loaders.load_pillow(blob(out.getvalue()), LIMITS)
    assert loaded is not None and loaded.bands == 4 and loaded.getpoint(0, 0) == [10, 20, 30, 255]


def test_pillow_checks_the_resolution_before_decoding_and_refuses_bombs() -> None:
    with pytest.raises(Unprocessable, match="megapixels"):
        loaders.load_pillow(blob(media.bmp(20, 20)), TINY)
    header = bytearray(media.bmp(4, 4))
    header[18:26] = (30000).to_bytes(4, "little") * 2  # declares 30000 x 30000
    with pytest.raises(Unprocessable, match="resolution over the limit"):
        loaders.load_pillow(blob(bytes(header)), LIMITS)


def test_pillow_truncated_data_is_422() -> None:
    data = media.bmp(64, 64)
    with pytest.raises(Unprocessable, match="cannot decode BMP"):
        loaders.load_pillow(blob(data[: len(data) // 2]), LIMITS)


def test_heif_is_decoded_and_checked() -> None:
    image = loaders.load_heif(blob(media.heic(64, 48)), LIMITS)
    assert (image.width, image.height, image.bands) == (64, 48, 3)
    with pytest.raises(Unprocessable, match="megapixels"):
        loaders.load_heif(blob(media.heic(64, 48)), TINY)
    with pytest.raises(Unprocessable, match="cannot decode HEIF"):
        loaders.load_heif(blob(media.heic()[:100]), LIMITS)


def test_nrrd_two_d_images_and_channels(tmp_path) -> None:  # type: ignore[no-untyped-def]
    grey = loaders.load_nrrd(
        blob(media.nrrd_bytes(np.arange(12, dtype=np.uint8).reshape(3, 4), tmp_path)), LIMITS
    )
    assert (grey.width, grey.height, grey.bands) == (4, 3, 1)
    rgb = np.zeros((5, 6, 3), np.uint8)  # NRRD lists the sizes fastest first: 3 6 5
    rgb[:, :, 0] = 200
    loaded = loaders.load_nrrd(blob(media.nrrd_bytes(rgb, tmp_path)), LIMITS)
    assert (loaded.width, loaded.height, loaded.bands) == (6, 5, 3)
    assert loaded.getpoint(0, 0) == [200, 0, 0] and loaded.interpretation == "srgb"
    single = loaders.load_nrrd(
        blob(media.nrrd_bytes(np.zeros((1, 4, 5), np.uint8), tmp_path)), LIMITS
    )
    assert (single.width, single.height) == (5, 4)  # a size of 1 is no dimension


def test_nrrd_int64_becomes_double(tmp_path) -> None:  # type: ignore[no-untyped-def]
    array = np.array([[0, 2**40], [5, 7]], np.int64)
    image = loaders.load_nrrd(blob(media.nrrd_bytes(array, tmp_path)), LIMITS)
    assert image.format == "double" and image.getpoint(1, 0) == [2.0**40]


def test_nrrd_refusals() -> None:
    detached = b"NRRD0004\ntype: uint8\ndimension: 2\nsizes: 4 4\nencoding: raw\ndata file: /etc/passwd\n\n"
    with pytest.raises(Unprocessable, match="detached data file"):
        loaders.load_nrrd(blob(detached), LIMITS)
    huge = b"NRRD0004\ntype: uint8\ndimension: 2\nsizes: 100 100\nencoding: raw\n\n"
    with pytest.raises(Unprocessable, match="megapixels"):
        loaders.load_nrrd(blob(huge), TINY)
    short = b"NRRD0004\ntype: uint8\ndimension: 2\nsizes: 4 4\nencoding: raw\n\n" + bytes(3)
    with pytest.raises(Unprocessable, match="cannot read NRRD"):
        loaders.load_nrrd(blob(short), LIMITS)


def test_from_array_interpretations() -> None:
    mask = loaders.from_array(np.array([[True, False]]))
    assert mask.format == "uchar" and [mask.getpoint(x, 0)[0] for x in range(2)] == [255, 0]
    assert loaders.from_array(np.zeros((2, 2), np.uint16)).interpretation == "grey16"
    assert loaders.from_array(np.zeros((2, 2, 3), np.uint16)).interpretation == "rgb16"
    assert loaders.from_array(np.zeros((2, 2, 4), np.uint8)).interpretation == "srgb"
    assert loaders.from_array(np.zeros((2, 2), np.float32)).interpretation == "b-w"
