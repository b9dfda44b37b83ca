"""Result sizes per resizing type, as imgproxy documents them, on a 640x480 source."""

import pytest

from tests.previews.conftest import decode, size_of


@pytest.mark.parametrize(
    "options, expected",
    [
        # fit: within the box, aspect kept
        ("rs:fit:300:300", (300, 225)),
        ("rs:fit:300:0", (300, 225)),
        ("rs:fit:0:120", (160, 120)),
        # fill: covers the box, the excess cropped
        ("rs:fill:300:300", (300, 300)),
        ("rs:fill:300:100", (300, 100)),
        ("rs:fill:300:0", (300, 225)),
        # no enlarge by default: fill keeps what there is
        ("rs:fill:1000:500", (640, 480)),
        # fill-down: like fill, but keeps the requested aspect ratio when it cannot enlarge
        ("rs:fill-down:1000:500", (640, 320)),
        ("rs:fill-down:300:300", (300, 300)),
        # force: exactly that size, aspect ignored; a 0 side keeps the source's
        ("rs:force:300:100", (300, 100)),
        ("rs:force:300:0", (300, 480)),
        # auto: fill when the orientations match, else fit
        ("rs:auto:300:100", (300, 100)),
        ("rs:auto:100:300", (100, 75)),
        # enlarge
        ("rs:fit:1280:1280", (640, 480)),
        ("rs:fit:1280:1280:1", (1280, 960)),
        ("rs:fit:1280:0/el:1", (1280, 960)),
        # extend: the canvas grows to the requested size
        ("rs:fit:1000:1000:0:1", (1000, 1000)),
        ("rs:fit:300:300/ex:1", (300, 300)),
        ("rs:fit:300:0/ex:1", (300, 225)),
        ("rs:fit:1000:1000/exar:1", (640, 640)),
        # dpr multiplies the requested size, never enlarging past the source
        ("rs:fit:300:300/dpr:2", (600, 450)),
        ("rs:fit:500:0/dpr:2", (640, 480)),
        # zoom, min sizes
        ("z:0.5", (320, 240)),
        ("h:100/mw:200", (200, 100)),
        ("w:100/mh:150", (100, 150)),
        ("rs:fit:100:100/mw:200", (100, 100)),  # "cropped according to width", say the docs
        # crop (before resizing): pixels or shares of the source
        ("c:200:100", (200, 100)),
        ("c:0.5:0.5", (320, 240)),
        ("c:320:480/rs:fit:160:0", (160, 240)),
        # padding is added around the result (scaled by dpr)
        ("rs:fit:100:100/pd:10", (120, 95)),
        ("rs:fit:100:100/pd:1:2:3:4/dpr:2", (212, 158)),
        # rotation happens before sizing: the requested width is the output's
        ("rs:fit:300:0/rot:90", (300, 400)),
        # no resize at all: 0:0 only re-encodes
        ("rs:fill:0:0", (640, 480)),
    ],
)
async def test_result_size(fetch, photo, options, expected):
    status, body, _headers = await fetch(f"/previews/_/{options}/plain/{photo}@png")
    assert status == 200, body
    assert size_of(body) == expected


@pytest.mark.parametrize("gravity, side", [("we", "left"), ("ea", "right")])
async def test_gravity_chooses_the_kept_part(fetch, photo, gravity, side):
    # The source's red channel grows from left (0) to right (255).
    status, body, _ = await fetch(f"/previews/_/rs:fill:100:300/g:{gravity}/plain/{photo}@png")
    assert status == 200
    red = decode(body)[0].avg()
    assert (red < 60) if side == "left" else (red > 195)


async def test_gravity_offsets_and_focus_point(fetch, photo):
    _, west, _ = await fetch(f"/previews/_/c:100:480:we/plain/{photo}@png")
    _, shifted, _ = await fetch(f"/previews/_/c:100:480:we:200:0/plain/{photo}@png")
    _, focus, _ = await fetch(f"/previews/_/c:100:480:fp:1:0.5/plain/{photo}@png")
    reds = [decode(b)[0].avg() for b in (west, shifted, focus)]
    assert reds[0] < reds[1] < reds[2]


async def test_smart_gravity(fetch, photo):
    status, body, _ = await fetch(f"/previews/_/rs:fill:100:100/g:sm/plain/{photo}@png")
    assert status == 200
    assert size_of(body) == (100, 100)


async def test_extend_fills_with_background(fetch, photo):
    status, body, _ = await fetch(f"/previews/_/rs:fit:640:680:0:1:no/bg:00ff00/plain/{photo}@png")
    assert status == 200
    image = decode(body)
    assert (image.width, image.height) == (640, 680)
    assert image.getpoint(320, 679)[:3] == [0, 255, 0]  # gravity north: the fill is below


async def test_extend_is_transparent_for_png_and_white_for_jpeg(fetch, photo):
    _, png, _ = await fetch(f"/previews/_/rs:fit:640:680:0:1:no/plain/{photo}@png")
    assert decode(png).hasalpha() and decode(png).getpoint(320, 679)[3] == 0
    _, jpeg, _ = await fetch(f"/previews/_/rs:fit:640:680:0:1:no/plain/{photo}@jpeg")
    assert all(v > 245 for v in decode(jpeg).getpoint(320, 679))
