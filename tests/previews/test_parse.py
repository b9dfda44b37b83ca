import pytest

from proxy.errors import BadRequest
from proxy.previews.options import Crop, Extend, Gravity, Trim
from proxy.previews.parse import Rules, parse_options


def test_defaults_are_imgproxys():
    options = parse_options([])
    assert (options.resizing_type, options.width, options.height) == ("fit", 0, 0)
    assert options.auto_rotate and options.strip_metadata and options.strip_color_profile
    assert not options.enlarge and options.dpr == 1
    assert options.canonical() == "-"


@pytest.mark.parametrize(
    "a, b",
    [
        (["rs:fill:300"], ["resize:fill:300:0:0"]),
        (["rs:fill:300:200"], ["rt:fill", "w:300", "h:200"]),
        (["s:300:200:1"], ["size:300:200:true", "el:1"]),
        (["g:sm"], ["gravity:sm"]),
        (["pd:10"], ["padding:10:10:10:10"]),
        (["pd:1:2"], ["pd:1:2:1:2"]),
        (["rot:-90"], ["rotate:270"]),
        (["bg:ff0000"], ["background:255:0:0"]),
        (["f:jpg"], ["ext:jpeg"]),
        (["fq:webp:70:jpeg:80"], ["fq:jpg:80", "fq:webp:70"]),
    ],
)
def test_equivalent_spellings_share_a_canonical_form(a, b):
    assert parse_options(a) == parse_options(b)
    assert parse_options(a).canonical() == parse_options(b).canonical()


def test_different_options_differ():
    assert parse_options(["rs:fill:300"]).canonical() != parse_options(["rs:fit:300"]).canonical()
    assert parse_options(["cb:1"]).canonical() != parse_options(["cb:2"]).canonical()


def test_header_only_options_stay_out_of_the_canonical_form():
    plain = parse_options(["w:10"]).canonical()
    assert parse_options(["w:10", "fn:x", "att:1", "exp:99999999999"]).canonical() == plain


def test_every_option_parses():
    options = parse_options(
        [
            "rs:fill-down:300:200:1:1:so",
            "mw:10",
            "mh:20",
            "z:1.5:2",
            "dpr:2",
            "exar:1:no",
            "g:fp:0.25:0.75",
            "c:0.5:100:ea:4:5",
            "t:10:ffffff:1:0",
            "pd:1:2:3:4",
            "rot:180",
            "ar:0",
            "fl:1:0",
            "bl:2",
            "sh:0.5",
            "pix:4",
            "sm:0",
            "kcr:0",
            "scp:0",
            "eth:1",
            "q:50",
            "mb:1000",
            "f:webp",
            "skp:gif",
            "raw:0",
            "cb:abc",
            "exp:4102444800",
            "fn:cHJldmlldw:1",
            "att:1",
        ]
    )
    assert options.resizing_type == "fill-down"
    assert (options.width, options.height, options.enlarge) == (300, 200, True)
    assert options.extend == Extend(True, Gravity("so"))
    assert options.extend_aspect_ratio == Extend(True, Gravity("no"))
    assert (options.min_width, options.min_height, options.zoom_x, options.zoom_y) == (
        10,
        20,
        1.5,
        2,
    )
    assert options.gravity == Gravity("fp", 0.25, 0.75)
    assert options.crop == Crop(0.5, 100, Gravity("ea", 4, 5))
    assert options.trim == Trim(10, (255, 255, 255), True, False)
    assert options.padding == (1, 2, 3, 4)
    assert (options.rotate, options.auto_rotate, options.flip_horizontal) == (180, False, True)
    assert (options.blur, options.sharpen, options.pixelate) == (2, 0.5, 4)
    assert not options.strip_metadata and not options.keep_copyright
    assert not options.strip_color_profile and options.enforce_thumbnail
    assert (options.quality, options.max_bytes, options.format) == (50, 1000, "webp")
    assert options.skip_processing == ("gif",)
    assert options.cachebuster == "abc" and options.expires == 4102444800
    assert options.filename == "preview" and options.return_attachment


def test_presets_apply_in_place_and_default_first():
    presets = Rules(presets={"default": "q:70/f:png", "thumb": "rs:fill:100:100"})
    options = parse_options(["pr:thumb", "q:90"], presets)
    assert (options.resizing_type, options.width, options.quality, options.format) == (
        "fill",
        100,
        90,
        "png",
    )
    assert parse_options([], presets).quality == 70


@pytest.mark.parametrize(
    "segment, named",
    [
        ("nope:1", "nope"),
        ("rs:fill:1:2:3:4:5:6:7:8", "rs"),
        ("w:1:2", "w"),
        ("w:-1", "w"),
        ("w:abc", "w"),
        ("rt:stretch", "rt"),
        ("q:101", "q"),
        ("dpr:0", "dpr"),
        ("z:0", "z"),
        ("rot:45", "rot"),
        ("g:up", "g"),
        ("g:sm:1", "g"),
        ("g:fp:2:0", "g"),
        ("ex:1:sm", "ex"),
        ("bg:12", "bg"),
        ("bg:1:2:300", "bg"),
        ("f:tif", "f"),
        ("f:", "f"),
        ("fq:webp", "fq"),
        ("pr:missing", "pr"),
        ("fn:a+b:1", "fn"),
        ("c:-10", "c"),
        ("pd:1:2:3:4:5", "pd"),
        ("bl:-1", "bl"),
    ],
)
def test_bad_options_are_400_naming_the_option(segment, named):
    with pytest.raises(BadRequest) as caught:
        parse_options([segment])
    assert caught.value.status == 400
    assert named in caught.value.reason
