"""Any libvips image made browser-viewable: 8-bit grey or sRGB, alpha kept (proxy.converter.normalize)."""

import numpy as np
import pyvips

from proxy.converter.normalize import viewable


def from_array(array: np.ndarray, interpretation: str) -> pyvips.Image:
    return pyvips.Image.new_from_array(array).copy(interpretation=interpretation)


def test_eight_bit_srgb_and_grey_pass_unchanged() -> None:
    rgb = from_array(np.full((4, 6, 3), (10, 20, 30), np.uint8), "srgb")
    out = viewable(rgb)
    assert (out.interpretation, out.format, out.bands) == ("srgb", "uchar", 3)
    assert np.array_equal(out.numpy(), rgb.numpy())
    grey = viewable(from_array(np.full((4, 6), 77, np.uint8), "b-w"))
    assert (grey.interpretation, grey.bands, grey.getpoint(0, 0)) == ("b-w", 1, [77])


def test_the_exif_orientation_is_applied() -> None:
    image = from_array(np.zeros((2, 5, 3), np.uint8), "srgb").copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    out = viewable(image)
    assert (out.width, out.height) == (2, 5)


def test_deep_data_is_stretched_by_its_own_range() -> None:
    row = np.array([[1000, 2000, 3000, 4000]], np.uint16)
    out = viewable(from_array(row, "grey16"))
    assert out.format == "uchar" and out.interpretation == "b-w"
    assert [out.getpoint(x, 0)[0] for x in range(4)] == [0, 85, 170, 255]
    flat = viewable(from_array(np.full((2, 2), 5000, np.uint16), "grey16"))
    assert flat.getpoint(0, 0) == [0]  # no range: no division by zero


def test_nan_and_infinities_count_as_the_lowest_value() -> None:
    array = np.array([[np.nan, -np.inf, 0.0, 0.5, 1.0, np.inf]], np.float32)
    out = viewable(from_array(array, "b-w"))
    assert [out.getpoint(x, 0)[0] for x in range(6)] == [0, 0, 0, 128, 255, 0]


def test_alpha_is_kept_and_scaled_from_its_own_type() -> None:
    rgba16 = np.zeros((1, 2, 4), np.uint16)
    rgba16[0, :, :3] = [[0, 0, 0], [60000, 30000, 0]]
    rgba16[0, :, 3] = [65535, 0]
    out = viewable(from_array(rgba16, "rgb16"))
    assert out.bands == 4 and out.interpretation == "srgb" and out.format == "uchar"
    assert out.getpoint(0, 0)[3] == 255 and out.getpoint(1, 0)[3] == 0
    float_alpha = np.zeros((1, 2, 2), np.float32)
    float_alpha[0, :, 0] = [0.0, 2.0]
    float_alpha[0, :, 1] = [1.0, 0.5]
    grey_alpha = viewable(from_array(float_alpha, "b-w"))
    assert grey_alpha.bands == 2 and [grey_alpha.getpoint(x, 0)[1] for x in range(2)] == [255, 127]


def test_colour_spaces_are_converted_not_stretched() -> None:
    lab = from_array(np.full((2, 2, 3), (53.2, 80.1, 67.2), np.float32), "lab")
    out = viewable(lab)
    r, g, b = out.getpoint(0, 0)
    assert out.interpretation == "srgb" and r > 250 and g < 10 and b < 10  # red, not stretched


def test_complex_data_shows_its_magnitude_and_many_bands_the_first_three() -> None:
    complex_image = (
        from_array(np.array([[3.0, 0.0]], np.float32), "b-w")
        .bandjoin(from_array(np.array([[4.0, 0.0]], np.float32), "b-w"))
        .copy(format="complex", bands=1)
    )
    out = viewable(complex_image)
    assert out.bands == 1 and [out.getpoint(x, 0)[0] for x in range(2)] == [255, 0]
    five = from_array(np.arange(5, dtype=np.uint8).reshape(1, 1, 5) * 50, "multiband")
    shown = viewable(five)
    assert (
        shown.bands == 3 and shown.interpretation == "srgb" and shown.getpoint(0, 0) == [0, 50, 100]
    )
