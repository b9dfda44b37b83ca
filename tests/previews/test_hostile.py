"""Hostile URLs and images cost one request, never the server (issue #12).

Numbers past what a preview can use are 400s naming the option; header values stay valid
whatever a URL puts in them; every limit is checked before pixels are decoded: frames
(cut to PREVIEWS_MAX_ANIMATION_FRAMES, summed or per frame), SVG size and raster area.
"""

from __future__ import annotations

import base64

import pytest
import pyvips

from tests.conftest import encode_image
from tests.previews.conftest import decode, fetcher, gif_animation, png_declaring


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "segment, named",
    [
        ("z:1e308", "z"),
        ("z:1e400", "z"),
        ("w:1e400", "w"),
        ("pd:1e400", "pd"),
        ("pix:1e400", "pix"),
        ("mw:1e400", "mw"),
        ("w:99999999999999999999", "w"),
        ("w:2147483648", "w"),
        ("h:-1", "h"),
        ("bl:nan", "bl"),
        ("sh:inf", "sh"),
        ("dpr:NaN", "dpr"),
        ("g:no:1e400", "g"),
        ("c:-5:10", "c"),
        ("rot:99999999999999999990", "rot"),
        ("q:-1", "q"),
        ("exp:9223372036854775808", "exp"),
        ("wm:0.5:re:nan", "wm"),
    ],
)
async def test_numbers_out_of_range_are_400_naming_the_option(fetch, photo, segment, named):
    status, body, _ = await fetch(f"/previews/q/{segment}/plain/{photo}")
    assert status == 400
    assert f"option {named}:" in body.decode()


@pytest.mark.parametrize(
    "segment", ["pd:100:2147483647", "w:2147483647/el:1", "mw:2147483647", "pd:2147483647"]
)
async def test_the_largest_integers_are_scaled_into_the_result_limit(fetch, photo, segment):
    status, body, _ = await fetch(f"/previews/q/{segment}/plain/{photo}@png")
    assert status == 200
    # imgproxy's limitScale: the image never goes below one pixel, so huge paddings
    # around it can end one pixel past the limit.
    assert max(decode(body).width, decode(body).height) <= 8192 + 1


@pytest.mark.parametrize(
    "name", [b"a\x01b", b"line\r\nbreak", b"nul\x00", b'quote"back\\slash', "ünïcode ✓".encode()]
)
async def test_file_names_from_urls_make_valid_headers(fetch, photo, name):
    status, _, headers = await fetch(f"/previews/q/fn:{b64(name)}:1/plain/{photo}")
    assert status == 200
    value = headers["Content-Disposition"]
    assert value.isascii() and not any(ord(c) < 0x20 or c == "\x7f" for c in value)
    assert value.startswith('inline; filename="')


async def test_frames_beyond_the_limit_are_cut(make_client, make_settings, put_file):
    put_file("many.gif", gif_animation(20_000))
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_ANIMATION_FRAMES="10")))
    status, body, _ = await fetch("/previews/q/w:4/el:1/plain/abc-public/many.gif")
    assert status == 200
    image = pyvips.Image.new_from_buffer(body, "", n=-1)
    assert image.get("n-pages") == 10
    # Still output: one frame decoded, whatever the file holds.
    status, body, _ = await fetch("/previews/q/w:4/el:1/plain/abc-public/many.gif@png")
    assert status == 200 and decode(body).height == 4


async def test_the_frames_that_will_be_decoded_are_summed_against_the_limit(
    make_client, make_settings, put_file
):
    put_file("tall.gif", gif_animation(50, 100, 100))  # 50 x 10,000 pixels
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_SRC_RESOLUTION="0.2")))
    status, body, _ = await fetch("/previews/q/w:10/plain/abc-public/tall.gif")
    assert status == 422 and b"50 frames" in body
    # The first frame alone is within the limit: a still preview is fine.
    assert (await fetch("/previews/q/w:10/plain/abc-public/tall.gif@png"))[0] == 200


async def test_a_per_frame_limit_replaces_the_sum(make_client, make_settings, put_file):
    put_file("tall.gif", gif_animation(50, 100, 100))
    settings = make_settings(
        PREVIEWS_MAX_SRC_RESOLUTION="0.2", PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION="0.02"
    )
    fetch = fetcher(await make_client(settings))
    assert (await fetch("/previews/q/w:10/plain/abc-public/tall.gif"))[0] == 200
    settings = make_settings(PREVIEWS_MAX_ANIMATION_FRAME_RESOLUTION="0.005")
    fetch = fetcher(await make_client(settings))
    # (Another cache key: the preview cache is on the same disk as the first client's.)
    status, body, _ = await fetch("/previews/q/w:10/cb:2/plain/abc-public/tall.gif")
    assert status == 422 and b"a frame" in body


async def test_declared_resolution_is_refused_before_decoding_in_every_format(fetch, put_file):
    put_file("bomb.png", png_declaring(30000, 30000))
    assert (await fetch("/previews/q/w:10/plain/abc-public/bomb.png@webp"))[0] == 422


def _svg(width: int, height: int, inner: str = "") -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
        f'width="{width}" height="{height}"><rect width="{width}" height="{height}" '
        f'fill="#00f"/>{inner}</svg>'
    ).encode()


async def test_svg_over_the_size_limit_is_refused(make_client, make_settings, put_file):
    padding = "<!--" + "x" * 4000 + "-->"
    put_file("big.svg", _svg(10, 10, padding))
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_SVG_FILE_SIZE="2k")))
    status, body, _ = await fetch("/previews/q/w:10/plain/abc-public/big.svg@png")
    assert status == 422 and b"SVG" in body


async def test_svg_is_rasterised_at_the_target_scale_within_the_limit(
    make_client, make_settings, put_file
):
    put_file("small.svg", _svg(100, 50))
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_SRC_RESOLUTION="1")))
    # A vector enlarges (imgproxy's rule): rendered at 800x400, not scaled up from 100x50.
    status, body, _ = await fetch("/previews/q/w:800/plain/abc-public/small.svg@png")
    assert status == 200 and (decode(body).width, decode(body).height) == (800, 400)
    # The canvas it would be rendered on is over 1 MP: refused before rasterising.
    status, body, _ = await fetch("/previews/q/w:2000/plain/abc-public/small.svg@png")
    assert status == 422 and b"resolution" in body


async def test_an_svg_declaring_a_huge_canvas_is_rendered_smaller(
    make_client, make_settings, put_file
):
    put_file("huge.svg", _svg(100_000, 50_000))
    fetch = fetcher(await make_client(make_settings(PREVIEWS_MAX_SRC_RESOLUTION="1")))
    status, body, _ = await fetch("/previews/q/plain/abc-public/huge.svg@png")
    assert status == 200
    image = decode(body)
    assert image.width * image.height <= 1_000_000 and image.width == 2 * image.height


async def test_svg_relative_references_are_not_resolved(fetch, put_file, data_path):
    # A red image beside the SVG: librsvg would draw it if it knew where the SVG lives.
    put_file("svg/red.png", encode_image(20, 20, ".png"))
    red = pyvips.Image.black(20, 20).new_from_image([255, 0, 0]).cast("uchar").pngsave_buffer()
    put_file("svg/red.png", bytes(red))
    drawing = _svg(20, 20, '<image href="red.png" width="20" height="20"/>')
    path = put_file("svg/pic.svg", drawing)
    by_path = pyvips.Image.new_from_file(str(path))
    assert by_path.getpoint(10, 10)[:3] == [255, 0, 0]  # what loading by path would do
    status, body, _ = await fetch("/previews/q/plain/abc-public/svg/pic.svg@png")
    assert status == 200
    assert decode(body).getpoint(10, 10)[:3] == [0, 0, 255]  # the SVG's own blue


async def test_svg_scripts_and_handlers_never_reach_the_client(fetch, put_file):
    put_file("x.svg", _svg(10, 10, '<script>alert(1)</script><a href="javascript:x()"/>'))
    status, body, headers = await fetch("/previews/q/plain/abc-public/x.svg")
    assert status == 200 and headers["Content-Type"] == "image/svg+xml"
    assert b"script" not in body and b"javascript" not in body
