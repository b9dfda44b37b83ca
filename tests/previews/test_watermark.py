"""The watermark: placement, opacity, scale, replication and frames (proxy.previews.watermark)."""

import numpy as np
import pyvips

from proxy.previews.options import Gravity, Watermark
from proxy.previews.watermark import apply

RED = [255, 0, 0]
WHITE = [255, 255, 255]


def solid(width: int, height: int, rgb: list[int], alpha: int | None = None) -> pyvips.Image:
    image = pyvips.Image.black(width, height).new_from_image(rgb).cast("uchar")
    if alpha is not None:
        image = image.bandjoin(alpha)
    return image.copy(interpretation="srgb")


def red_mask(image: pyvips.Image) -> np.ndarray:
    """Where the image is (nearly) pure red."""
    pixels = image.numpy().astype(int)
    return (pixels[:, :, 0] > 250) & (pixels[:, :, 1] < 5) & (pixels[:, :, 2] < 5)


def box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """left, top, width, height of the True pixels."""
    rows, cols = np.nonzero(mask)
    return cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1


def test_placed_by_its_gravity_with_offsets_from_that_side() -> None:
    image = solid(100, 80, WHITE)
    mark = solid(10, 10, RED)
    corner = apply(image, mark, Watermark(1.0, Gravity("soea")), 1.0, 1.0)
    assert box(red_mask(corner)) == (90, 70, 10, 10)
    assert red_mask(corner).sum() == 100  # nothing else changed
    moved = apply(image, mark, Watermark(1.0, Gravity("soea", 5, 8)), 1.0, 1.0)
    assert box(red_mask(moved)) == (85, 62, 10, 10)
    doubled = apply(image, mark, Watermark(1.0, Gravity("soea", 5, 8)), 1.0, 2.0)
    assert box(red_mask(doubled)) == (80, 54, 10, 10)  # pixel offsets times the dpr
    centred = apply(image, mark, Watermark(1.0, Gravity("ce")), 1.0, 1.0)
    assert box(red_mask(centred)) == (46, 36, 10, 10)  # (100 - 10 + 1) / 2, half to even


def test_a_watermark_may_stick_out_of_the_image() -> None:
    out = apply(
        solid(50, 40, WHITE), solid(10, 10, RED), Watermark(1.0, Gravity("nowe", -6, -7)), 1.0, 1.0
    )
    assert box(red_mask(out)) == (0, 0, 4, 3)


def test_opacity_is_the_options_times_the_configured_one() -> None:
    image = solid(20, 20, WHITE)
    out = apply(image, solid(20, 20, RED), Watermark(0.5), 0.5, 1.0)
    # A quarter red over white: green and blue fall to three quarters.
    assert out.getpoint(10, 10) == [255, 191, 191] or out.getpoint(10, 10) == [255, 192, 192]
    assert out.bands == 3  # an image without alpha stays without it
    half_transparent = solid(20, 20, RED, alpha=128)
    out = apply(image, half_transparent, Watermark(1.0), 1.0, 1.0)
    assert abs(out.getpoint(10, 10)[1] - 127) <= 1  # the mark's own alpha counts too


def test_scale_fits_the_watermark_into_a_share_of_the_image() -> None:
    image = solid(100, 80, WHITE)
    out = apply(image, solid(10, 10, RED), Watermark(1.0, Gravity("nowe"), 0.5), 1.0, 1.0)
    assert box(red_mask(out)) == (0, 0, 40, 40)  # into 50 x 40: enlarged, kept square
    small = apply(image, solid(200, 100, RED), Watermark(1.0, Gravity("nowe"), 0.25), 1.0, 1.0)
    assert box(red_mask(small)) == (0, 0, 25, 13)  # into 25 x 20: shrunk, kept 2:1


def test_replicate_tiles_the_mark_with_the_offsets_as_spacing() -> None:
    image = solid(100, 80, WHITE)
    out = apply(image, solid(10, 10, RED), Watermark(1.0, Gravity("re", 10, 0)), 1.0, 1.0)
    columns = red_mask(out).all(axis=0)
    # 20-pixel tiles, the mark in the middle of each: five across, none cut.
    assert [x for x in range(100) if columns[x]] == [
        x for start in range(5, 100, 20) for x in range(start, start + 10)
    ]
    assert red_mask(out).any(axis=1).all()  # no spacing down: every row has red


def test_replicate_centres_an_odd_number_of_tiles() -> None:
    image = solid(25, 10, WHITE)
    out = apply(image, solid(10, 10, RED), Watermark(1.0, Gravity("re", 4, 0)), 1.0, 1.0)
    # 14-pixel tiles (the mark 2 px in): 3 across, 42 px, centred on 25 (8 px cut off the
    # left): the middle tile's mark at 8-17, parts of its neighbours' at each side.
    columns = red_mask(out).all(axis=0)
    assert [x for x in range(25) if columns[x]] == [*range(0, 4), *range(8, 18), *range(22, 25)]


def test_a_huge_spacing_shows_one_centred_tile() -> None:
    image = solid(100, 80, WHITE)
    out = apply(image, solid(10, 10, RED), Watermark(1.0, Gravity("re", 10**6, 10**6)), 1.0, 1.0)
    assert box(red_mask(out)) == (45, 35, 10, 10)


def test_a_colour_mark_on_a_grey_image_makes_it_colour() -> None:
    grey = pyvips.Image.black(20, 20).new_from_image([200]).cast("uchar").copy(interpretation="b-w")
    out = apply(grey, solid(4, 4, RED), Watermark(1.0, Gravity("nowe")), 1.0, 1.0)
    assert out.bands == 3 and out.getpoint(1, 1) == RED and out.getpoint(10, 10) == [200] * 3
    grey_mark = pyvips.Image.black(4, 4).cast("uchar").copy(interpretation="b-w")
    still_grey = apply(grey, grey_mark, Watermark(1.0, Gravity("nowe")), 1.0, 1.0)
    assert still_grey.bands == 1 and still_grey.getpoint(1, 1) == [0]


def test_each_frame_gets_the_mark_cut_to_its_own_frame() -> None:
    frames = pyvips.Image.arrayjoin([solid(20, 10, WHITE)] * 3, across=1)
    # Taller than a frame: blue on top, red below. At `so` its top sticks out above the
    # frame; that part must not show at the bottom of the frame before.
    mark = solid(4, 5, [0, 0, 255]).join(solid(4, 10, RED), "vertical")
    out = apply(frames, mark, Watermark(1.0, Gravity("so")), 1.0, 1.0, frames=3)
    mask = red_mask(out)
    for frame in range(3):
        assert box(mask[frame * 10 : frame * 10 + 10]) == (8, 0, 4, 10)
    assert mask.sum() == 3 * 40
