"""The Options value: its canonical form (the cache key's options) and quality_for's order."""

from dataclasses import fields, replace

import pytest

from proxy.previews.options import (
    HEADER_ONLY,
    LIMITS_ONLY,
    Crop,
    Extend,
    Gravity,
    Options,
    Trim,
    Watermark,
)


def test_the_defaults_have_an_empty_canonical_form() -> None:
    assert Options().canonical() == "-"


def test_only_fields_off_their_default_are_listed_in_field_order() -> None:
    options = Options(width=300, resizing_type="fill", enlarge=True, dpr=2.0)
    assert options.canonical() == "resizing_type:fill/width:300/dpr:2/enlarge:1"


def test_values_are_spelled_one_way() -> None:
    options = Options(
        zoom_x=1.50,
        padding=(1, 2, 3, 4),
        background=(255, 0, 16),
        format_quality=(("jpeg", 80), ("webp", 70)),
        skip_processing=("gif",),
        strip_metadata=False,
    )
    assert options.canonical() == (
        "zoom_x:1.5/padding:1:2:3:4/background:255:0:16/strip_metadata:0"
        "/format_quality:jpeg:80:webp:70/skip_processing:gif"
    )


def test_nested_values_have_fixed_text_forms() -> None:
    assert str(Gravity("noea", 0.25, 10.0)) == "noea:0.25:10"
    assert str(Extend(True, Gravity("so"))) == "1:so:0:0"
    assert str(Crop(0.5, 100)) == "0.5:100:-"
    assert str(Crop(10, 20, Gravity("we"))) == "10:20:we:0:0"
    assert str(Trim(10.0)) == "10:-:0:0"
    assert str(Trim(5.5, (255, 0, 1), True, False)) == "5.5:ff0001:1:0"
    assert str(Watermark(0.5, Gravity("re", 4, 4), 0.25)) == "0.5:re:4:4:0.25"
    assert Options(crop=Crop(0.5, 100)).canonical() == "crop:0.5:100:-"


@pytest.mark.parametrize(
    "name, value",
    [
        ("expires", 4102444800),
        ("filename", "x"),
        ("return_attachment", True),
        ("max_src_resolution", 1.0),
        ("max_src_file_size", 10),
        ("max_animation_frame_resolution", 0.5),
        ("format", "png"),
    ],
)
def test_options_that_do_not_change_the_bytes_stay_out(name: str, value: object) -> None:
    # Headers, per-URL limits (they only refuse sources) and the format (keyed on its own).
    assert Options(**{name: value}).canonical() == "-"  # type: ignore[arg-type]


def test_every_field_is_either_canonical_or_named_as_not() -> None:
    # A new field that changes the bytes is in the key unless it is listed as not.
    names = {f.name for f in fields(Options)}
    assert names >= HEADER_ONLY and names >= LIMITS_ONLY
    canonical_fields = names - HEADER_ONLY - LIMITS_ONLY - {"format", "watermark_image"}
    for name in canonical_fields:
        default = getattr(Options(), name)
        changed = {bool: not default, int: 7, float: 0.5, str: "x"}.get(type(default))
        if changed is None:
            continue  # composite values are covered by the tests above
        assert Options(**{name: changed}).canonical().startswith(f"{name}:"), name


def test_the_watermark_image_counts_only_when_a_watermark_is_asked_for() -> None:
    configured = Options(watermark_image="abc123:0.5")
    assert configured.canonical() == "-"
    marked = replace(configured, watermark=Watermark(1.0))
    assert marked.canonical() == "watermark:1:ce:0:0:0/watermark_image:abc123:0.5"
    other_image = replace(marked, watermark_image="def456:0.5")
    assert other_image.canonical() != marked.canonical()


def test_quality_for_prefers_the_option_then_format_quality_then_settings() -> None:
    defaults = {"webp": 70}
    assert (
        Options(quality=33, format_quality=(("jpeg", 44),)).quality_for("jpeg", defaults, 80) == 33
    )
    assert Options(format_quality=(("jpeg", 44),)).quality_for("jpeg", defaults, 80) == 44
    assert Options(format_quality=(("jpeg", 44),)).quality_for("webp", defaults, 80) == 70
    assert Options().quality_for("png", defaults, 80) == 80


def test_a_zero_quality_anywhere_means_not_set() -> None:
    options = Options(quality=0, format_quality=(("webp", 0),))
    assert options.quality_for("webp", {"webp": 0}, 80) == 80
    assert options.quality_for("webp", {"webp": 65}, 80) == 65
