"""Every option under every one of its names (imgproxy's), and what each one sets.

The table must name every registered parser: an option added without a row here fails
`test_the_table_covers_every_option`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from proxy.errors import BadRequest, Forbidden
from proxy.previews.options import Crop, Extend, Gravity, Trim, Watermark
from proxy.previews.parse import PARSERS, PRESET_NAMES, Rules, parse_options

SECURITY = Rules(allow_security_options=True)
README = Path(__file__).parents[2] / "README.md"

# (names, arguments, the fields they set) - the first name is imgproxy's long one.
OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (
        ("resize", "rs"),
        "fill:300:200:1:1:so",
        {
            "resizing_type": "fill",
            "width": 300,
            "height": 200,
            "enlarge": True,
            "extend": Extend(True, Gravity("so")),
        },
    ),
    (("size", "s"), "300:200:t", {"width": 300, "height": 200, "enlarge": True}),
    (("resizing_type", "rt"), "fill-down", {"resizing_type": "fill-down"}),
    (("width", "w"), "+120", {"width": 120}),
    (("height", "h"), "80", {"height": 80}),
    (("min-width", "mw"), "10", {"min_width": 10}),
    (("min-height", "mh"), "20", {"min_height": 20}),
    (("zoom", "z"), "1.5:0x1p1", {"zoom_x": 1.5, "zoom_y": 2.0}),
    (("dpr",), "2", {"dpr": 2.0}),
    (("enlarge", "el"), "TRUE", {"enlarge": True}),
    (("extend", "ex"), "1:no::5", {"extend": Extend(True, Gravity("no", 0, 5))}),
    (
        ("extend_aspect_ratio", "extend_ar", "exar"),
        "1:fp:0.5:0.25",
        {
            "extend_aspect_ratio": Extend(True, Gravity("fp", 0.5, 0.25)),
        },
    ),
    (("gravity", "g"), "sowe:0.1:-3", {"gravity": Gravity("sowe", 0.1, -3)}),
    (("crop", "c"), "100", {"crop": Crop(100, 0, None)}),
    (("trim", "t"), "10:f0a:1", {"trim": Trim(10, (255, 0, 170), True, False)}),
    (("padding", "pd"), "10::20", {"padding": (10, 10, 20, 10)}),
    (("rotate", "rot"), "450", {"rotate": 90}),
    (("auto_rotate", "ar"), "0", {"auto_rotate": False}),
    (("flip", "fl"), ":1", {"flip_horizontal": False, "flip_vertical": True}),
    (("background", "bg"), "0:128:255", {"background": (0, 128, 255)}),
    (("blur", "bl"), "2.5", {"blur": 2.5}),
    (("sharpen", "sh"), "0.7", {"sharpen": 0.7}),
    (("pixelate", "pix"), "8", {"pixelate": 8}),
    (
        ("watermark", "wm"),
        "0.5:re:10::0.25",
        {
            "watermark": Watermark(0.5, Gravity("re", 10, 0), 0.25),
        },
    ),
    (("strip_metadata", "sm"), "false", {"strip_metadata": False}),
    (("keep_copyright", "kcr"), "0", {"keep_copyright": False}),
    (("strip_color_profile", "scp"), "f", {"strip_color_profile": False}),
    (("preserve_hdr", "ph"), "1", {"preserve_hdr": True}),
    (("enforce_thumbnail", "eth"), "1", {"enforce_thumbnail": True}),
    (("quality", "q"), "55", {"quality": 55}),
    (("format_quality", "fq"), "jpg:70:avif:0", {"format_quality": (("avif", 0), ("jpeg", 70))}),
    (("max_bytes", "mb"), "10000", {"max_bytes": 10000}),
    (("format", "f", "ext"), "heic", {"format": "heic"}),
    (("skip_processing", "skp"), "jpg:svg", {"skip_processing": ("jpeg", "svg")}),
    (("raw",), "1", {"raw": True}),
    (("cachebuster", "cb"), "v2", {"cachebuster": "v2"}),
    (("expires", "exp"), "4102444800", {"expires": 4102444800}),
    (("filename", "fn"), "cHJldmlldw:1", {"filename": "preview"}),
    (("return_attachment", "att"), "1", {"return_attachment": True}),
    (("max_src_resolution", "msr"), "2.5", {"max_src_resolution": 2.5}),
    (("max_src_file_size", "msfs"), "1000", {"max_src_file_size": 1000}),
    (("max_animation_frames", "maf"), "5", {"max_animation_frames": 5}),
    (("max_animation_frame_resolution", "mafr"), "0.5", {"max_animation_frame_resolution": 0.5}),
    (("max_result_dimension", "mrd"), "640", {"max_result_dimension": 640}),
]


def test_the_table_covers_every_option():
    named = {name for names, _, _ in OPTIONS for name in names}
    assert named == set(PARSERS)


@pytest.mark.parametrize(
    "names, arguments, fields", OPTIONS, ids=[names[0] for names, _, _ in OPTIONS]
)
def test_each_name_sets_the_same_fields(names, arguments, fields):
    parsed = [parse_options([f"{name}:{arguments}"], SECURITY) for name in names]
    for options in parsed:
        assert options == parsed[0]
        for field, value in fields.items():
            assert getattr(options, field) == value, (field, getattr(options, field))


@pytest.mark.parametrize("names", [names for names, _, _ in OPTIONS], ids=lambda n: n[0])
def test_every_name_refuses_too_many_arguments(names):
    if names[0] in ("skip_processing", "format_quality"):
        return  # lists: any number of formats (pairs)
    for name in names:
        with pytest.raises(BadRequest) as caught:
            parse_options([f"{name}:" + ":".join(["1"] * 9)], SECURITY)
        assert f"option {name}:" in caught.value.reason or name in caught.value.reason


@pytest.mark.parametrize(
    "name",
    ["max_src_resolution", "msr", "msfs", "maf", "mafr", "mrd"],
)
def test_security_options_need_the_setting(name):
    with pytest.raises(Forbidden) as caught:
        parse_options([f"{name}:1"])
    assert caught.value.status == 403


def test_preset_names():
    rules = Rules(presets={"a": "w:10", "b": "h:20"})
    for name in PRESET_NAMES:
        options = parse_options([f"{name}:a:b"], rules)
        assert (options.width, options.height) == (10, 20)


@pytest.mark.parametrize("name", ["RS", "Width", "min_width", "min_height", "resize_type"])
def test_names_are_imgproxys_exactly(name):
    with pytest.raises(BadRequest, match="unknown option"):
        parse_options([f"{name}:1"])


def _readme_option_names() -> set[str]:
    """The names in the first column of the README's table of preview options."""
    text = README.read_text(encoding="utf-8")
    table = text.split("| option (short names) |", 1)[1].split("\n\n", 1)[0]
    rows = [line for line in table.splitlines()[2:] if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([^`]+)`", row.split(" | ")[0])}


def test_the_readme_lists_every_option_and_no_other():
    assert _readme_option_names() == set(PARSERS) | set(PRESET_NAMES)
