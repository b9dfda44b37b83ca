import pytest

from proxy.previews.geometry import make_plan, position, scale, scale_to_even
from proxy.previews.options import Gravity
from proxy.previews.parse import parse_options


def planned(segments, width=640, height=480):
    plan = make_plan(width, height, parse_options(segments))
    return plan.scaled_width, plan.scaled_height, plan.target_width, plan.target_height


@pytest.mark.parametrize(
    "segments, expected",
    [
        (["rs:fit:300:300"], (300, 225, 300, 300)),
        (["rs:fill:300:300"], (400, 300, 300, 300)),
        (["rs:fill:300:0"], (300, 225, 300, 0)),
        (["rs:force:300:100"], (300, 100, 300, 100)),
        (["rs:force:300:0"], (300, 480, 300, 0)),
        (["rs:fit:2000:2000"], (640, 480, 2000, 2000)),
        (["rs:fit:1280:1280:1"], (1280, 960, 1280, 1280)),
        (["rs:fit:300:300", "dpr:2"], (600, 450, 600, 600)),
        (["w:100", "mw:200"], (200, 150, 100, 0)),
        (["z:0.5"], (320, 240, 0, 0)),
    ],
)
def test_plans(segments, expected):
    assert planned(segments) == expected


def test_positions_follow_gravity():
    assert position(100, 100, 20, 20, Gravity("ce")) == (40, 40)
    assert position(100, 100, 20, 20, Gravity("nowe")) == (0, 0)
    assert position(100, 100, 20, 20, Gravity("soea")) == (80, 80)
    assert position(100, 100, 20, 20, Gravity("no", 5, 7)) == (45, 7)
    assert position(100, 100, 20, 20, Gravity("fp", 0.0, 1.0)) == (0, 80)


def test_centres_and_paddings_round_half_to_even_as_go_does():
    # imgproxy: left = RoundToEven((W - w + 1) / 2); paddings ScaleToEven(pad, dpr).
    assert position(22, 10, 20, 10, Gravity("ce"))[0] == 2  # 1.5
    assert position(24, 10, 20, 10, Gravity("ce"))[0] == 2  # 2.5
    assert position(26, 10, 20, 10, Gravity("ce"))[0] == 4  # 3.5
    assert (scale_to_even(5, 0.5), scale_to_even(7, 0.5)) == (2, 4)
    assert scale(5, 0.5) == 3  # sizes: math.Round, halves away from zero


def test_offsets_below_one_are_shares_of_the_outer_size_not_scaled_by_dpr():
    assert position(200, 100, 50, 50, Gravity("nowe", 0.1, 0.2)) == (20, 20)
    assert position(200, 100, 50, 50, Gravity("nowe", 0.1, 0.2), dpr=2) == (20, 20)
    assert position(200, 100, 50, 50, Gravity("nowe", 10, 5), dpr=2) == (20, 10)
