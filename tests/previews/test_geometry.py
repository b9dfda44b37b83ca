import pytest

from proxy.previews.geometry import make_plan, position
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
