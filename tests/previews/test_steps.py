"""The processing steps, one at a time on real pixels (proxy.previews.steps)."""

from dataclasses import replace

import numpy as np
import pytest
import pyvips

from proxy.previews import steps
from proxy.previews.geometry import make_plan
from proxy.previews.options import Options
from proxy.previews.parse import parse_options
from proxy.previews.steps import Context


def solid(width: int, height: int, rgb: list[int], alpha: int | None = None) -> pyvips.Image:
    image = pyvips.Image.black(width, height).new_from_image(rgb).cast("uchar")
    if alpha is not None:
        image = image.bandjoin(alpha)
    return image.copy(interpretation="srgb")


def quadrants(width: int = 40, height: int = 20) -> pyvips.Image:
    """Red top-left, green top-right, blue bottom-left, white bottom-right."""
    top = solid(width // 2, height // 2, [255, 0, 0]).join(
        solid(width // 2, height // 2, [0, 255, 0]), "horizontal"
    )
    bottom = solid(width // 2, height // 2, [0, 0, 255]).join(
        solid(width // 2, height // 2, [255, 255, 255]), "horizontal"
    )
    return top.join(bottom, "vertical")


def ctx(
    *segments: str, fmt: str = "png", image: pyvips.Image | None = None, **fields: object
) -> Context:
    options = parse_options(segments)
    plan = make_plan(image.width, image.height, options) if image is not None else None
    return Context(options, fmt, plan=plan, **fields)  # type: ignore[arg-type]


def test_every_step_leaves_the_image_alone_when_its_option_is_not_set() -> None:
    image = quadrants()
    context = ctx(image=image)
    for step in (*steps.PREPARE, *steps.PIPELINE):
        assert step(image, context) is image, step.__name__


def test_to_processing_makes_eight_bit_unless_the_depth_is_kept() -> None:
    deep = (quadrants().cast("ushort") * 257).copy(interpretation="rgb16")
    eight = steps.to_processing(deep, ctx())
    assert (eight.interpretation, eight.format) == ("srgb", "uchar")
    assert eight.getpoint(0, 0) == [255, 0, 0]
    kept = steps.to_processing(deep, ctx(deep=True))
    assert (kept.interpretation, kept.format) == ("rgb16", "ushort")
    grey16 = (pyvips.Image.black(4, 4) + 30000).cast("ushort").copy(interpretation="grey16")
    assert steps.to_processing(grey16, ctx()).interpretation == "b-w"
    assert steps.to_processing(grey16, ctx(deep=True)).interpretation == "grey16"
    cmyk = quadrants().colourspace("cmyk")
    assert steps.to_processing(cmyk, ctx(deep=True)).interpretation == "srgb"  # never deep


def framed(inner: pyvips.Image, left: int, top: int, width: int, height: int) -> pyvips.Image:
    return inner.embed(left, top, width, height, extend="white")


def test_trim_cuts_the_border_of_the_top_left_colour() -> None:
    image = framed(solid(30, 10, [0, 0, 0]), 5, 3, 50, 20)
    out = steps.trim(image, ctx("t:10"))
    assert (out.width, out.height) == (30, 10) and out.avg() == 0


def test_trim_with_equal_sides_keeps_the_smaller_margin_on_both() -> None:
    image = framed(solid(30, 10, [0, 0, 0]), 5, 3, 50, 20)  # margins 5/15 across, 3/7 down
    hor = steps.trim(image, ctx("t:10:fff:1:0"))
    assert (hor.width, hor.height) == (40, 10)
    both = steps.trim(image, ctx("t:10:fff:1:1"))
    assert (both.width, both.height) == (40, 14)


def test_trim_by_a_named_colour_and_over_transparency() -> None:
    image = framed(solid(30, 10, [0, 0, 0]), 5, 3, 50, 20)
    # By black, the white frame is what is left: nothing to cut.
    assert (steps.trim(image, ctx("t:10:000")).width, image.height) == (50, 20)
    assert steps.trim(image, ctx("t:10:fff")).width == 30
    transparent = solid(10, 6, [255, 0, 0], alpha=255).embed(4, 2, 20, 12, extend="background")
    out = steps.trim(transparent, ctx("t:10"))
    assert (out.width, out.height) == (10, 6)


def test_trim_leaves_a_plain_image_whole() -> None:
    plain = solid(20, 10, [9, 9, 9])
    assert steps.trim(plain, ctx("t:10")) is plain


def test_rotation_flips_and_the_exif_orientation() -> None:
    image = quadrants()
    turned = steps.rotate_and_flip(image, ctx("rot:90"))
    assert (turned.width, turned.height) == (20, 40)
    assert turned.getpoint(15, 5) == [255, 0, 0]  # red top-left went to the top-right
    flipped = steps.rotate_and_flip(image, ctx("fl:1:0"))
    assert flipped.getpoint(0, 0) == [0, 255, 0]
    flipped = steps.rotate_and_flip(image, ctx("fl:0:1"))
    assert flipped.getpoint(0, 0) == [0, 0, 255]
    sideways = image.copy()
    sideways.set_type(pyvips.GValue.gint_type, "orientation", 6)
    upright = steps.rotate_and_flip(sideways, ctx(orient=True))
    assert (upright.width, upright.height) == (20, 40)
    assert steps.rotate_and_flip(sideways, ctx("ar:0", orient=True)) is sideways


def test_crop_by_pixels_or_share_at_its_gravity() -> None:
    image = quadrants()
    out = steps.crop(image, ctx("c:20:10:nowe"))
    assert (out.width, out.height) == (20, 10) and out.avg() == 85  # all red
    share = steps.crop(image, ctx("c:0.5:0.5:soea"))
    assert share.getpoint(0, 0) == [255] * 3
    main_gravity = steps.crop(image, ctx("c:0.5:0.5", "g:noea"))
    assert main_gravity.getpoint(0, 0) == [0, 255, 0]


def test_resize_crop_to_result_and_extend_follow_the_plan() -> None:
    image = quadrants(400, 200)
    fill = ctx("rs:fill:100:100", image=image)
    resized = steps.resize(image, fill)
    assert (resized.width, resized.height) == (200, 100)
    cropped = steps.crop_to_result(resized, fill)
    assert (cropped.width, cropped.height) == (100, 100)
    extended = ctx("rs:fit:100:100", "ex:1:no", "bg:ff00ff", image=image)
    fitted = steps.resize(image, extended)
    canvas = steps.extend(fitted, extended)
    assert (canvas.width, canvas.height) == (100, 100)
    assert canvas.getpoint(50, 80) == [255, 0, 255] and canvas.getpoint(5, 5) == [255, 0, 0]


def test_resizing_alpha_premultiplied_leaves_no_dark_fringe() -> None:
    # Opaque white next to transparent black: straight resizing would mix in the black.
    image = solid(20, 20, [255, 255, 255], alpha=255).embed(0, 0, 40, 20, extend="background")
    context = ctx("w:13", image=image)
    out = steps.resize(image, context)
    edge = [out.getpoint(x, out.height // 2) for x in range(out.width)]
    assert all(p[0] >= 250 for p in edge if p[3] > 20)


def test_filters_pixelate_in_whole_blocks() -> None:
    ramp = pyvips.Image.xyz(10, 8)[0].cast("uchar") * 20
    image = ramp.bandjoin([ramp, ramp]).cast("uchar").copy(interpretation="srgb")
    out = steps.filters(image, ctx("pix:4"))
    assert (out.width, out.height) == (10, 8)
    row = [out.getpoint(x, 0)[0] for x in range(10)]
    assert row[0:4] == [row[0]] * 4 and row[4:8] == [row[4]] * 4 and row[8] == row[9]
    assert row[0] == pytest.approx(30, abs=1)  # the mean of 0, 20, 40, 60
    whole = steps.filters(image, ctx("pix:1000"))  # one block: the image's size
    assert (whole.width, whole.height) == (10, 8) and len(
        {whole.getpoint(x, 0)[0] for x in range(10)}
    ) == 1


def test_blur_and_sharpen_change_edges_and_keep_eight_bit_srgb() -> None:
    image = quadrants()
    for segment in ("bl:2", "sh:1"):
        out = steps.filters(image, ctx(segment))
        assert (out.interpretation, out.format, out.bands) == ("srgb", "uchar", 3)
        assert not np.array_equal(out.numpy(), image.numpy()), segment


def test_padding_is_scaled_by_the_dpr() -> None:
    image = solid(10, 10, [0, 0, 0])
    out = steps.padding(image, ctx("pd:1:2:3:4", "bg:ffffff", image=image))
    assert (out.width, out.height) == (16, 14)
    assert out.getpoint(4, 1) == [0, 0, 0] and out.getpoint(3, 0) == [255] * 3
    large = solid(100, 100, [0, 0, 0])
    doubled = ctx("w:20", "pd:1:2:3:4", "dpr:2", image=large)
    out = steps.padding(steps.resize(large, doubled), doubled)
    assert (out.width, out.height) == (40 + 2 * (2 + 4), 40 + 2 * (1 + 3))


def test_padding_without_a_background_is_transparent() -> None:
    image = solid(10, 10, [0, 0, 0])
    out = steps.padding(image, ctx("pd:2", image=image))
    assert out.bands == 4 and out.getpoint(0, 0)[3] == 0 and out.getpoint(5, 5)[3] == 255


def test_fix_size_shrinks_to_the_formats_largest_side() -> None:
    wide = pyvips.Image.black(20000, 10)
    assert steps.fix_size(wide, ctx(fmt="png")) is wide
    assert steps.fix_size(wide, ctx(fmt="webp")).width == 16383
    icon = steps.fix_size(pyvips.Image.black(1000, 500), ctx(fmt="ico"))
    assert (icon.width, icon.height) == (256, 128)


def test_flatten_where_the_format_has_no_alpha_or_a_background_is_asked() -> None:
    half = solid(4, 4, [255, 0, 0], alpha=0)
    assert steps.flatten(half, ctx(fmt="png")) is half
    assert steps.flatten(half, ctx(fmt="jpeg")).getpoint(0, 0) == [255, 255, 255]
    assert steps.flatten(half, ctx("bg:00ff00", fmt="png")).getpoint(0, 0) == [0, 255, 0]
    grey = pyvips.Image.black(4, 4).bandjoin(0).cast("uchar").copy(interpretation="b-w")
    coloured = steps.flatten(grey, ctx("bg:ff0000", fmt="jpeg"))
    assert coloured.bands == 3 and coloured.getpoint(0, 0) == [255, 0, 0]
    assert steps.flatten(grey, ctx("bg:808080", fmt="jpeg")).bands == 1


def test_process_plans_from_what_prepare_left() -> None:
    image = quadrants(400, 200)
    out, done = steps.process(image, Context(parse_options(["c:200:100:nowe", "w:50"]), "png"))
    assert (out.width, out.height) == (50, 25)
    assert done.plan is not None and (done.sizes.scaled_width, done.sizes.scaled_height) == (50, 25)
    assert out.getpoint(25, 12) == [255, 0, 0]  # only the red quadrant was left
    planned = replace(done, options=Options(width=50))
    kept, _ = steps.process(image, planned)  # a given plan is used as it is
    assert (kept.width, kept.height) == (50, 25)
