"""Limits on hostile sources, checked from headers: where each limit lies and what it answers."""

from __future__ import annotations

import pytest

from proxy.errors import PayloadTooLarge, Unprocessable
from proxy.limits import SourceLimits


def test_from_settings_in_megapixels():
    limits = SourceLimits.from_settings(2.5, 1000, 0.25)
    assert limits == SourceLimits(
        max_pixels=2_500_000, max_file_size=1000, max_frame_pixels=250_000
    )
    assert SourceLimits.from_settings(50, 1).max_frame_pixels == 0


def test_the_pixel_limit_is_inclusive():
    limits = SourceLimits(max_pixels=1000, max_file_size=1)
    limits.check_pixels(100, 10)
    limits.check_pixels(1000, 1)
    with pytest.raises(Unprocessable) as err:
        limits.check_pixels(1001, 1)
    assert err.value.status == 422
    assert str(err.value) == "source resolution 1001x1 is over the limit of 0.001 megapixels"


@pytest.mark.parametrize(("width", "height"), [(0, 10), (10, 0), (-1, 10), (0, 0)])
def test_an_image_with_no_pixels_is_refused(width, height):
    with pytest.raises(Unprocessable, match=rf"no pixels \({width}x{height}\)"):
        SourceLimits(max_pixels=10**9, max_file_size=1).check_pixels(width, height)


def test_the_frames_count_against_the_sum():
    limits = SourceLimits(max_pixels=1000, max_file_size=1)
    limits.check_pixels(10, 10, frames=10)
    with pytest.raises(Unprocessable) as err:
        limits.check_pixels(10, 10, frames=11)
    assert (
        str(err.value)
        == "source resolution 10x10 x 11 frames is over the limit of 0.001 megapixels"
    )


def test_a_frame_limit_replaces_the_sum_for_animations():
    limits = SourceLimits(max_pixels=1000, max_file_size=1, max_frame_pixels=500)
    limits.check_pixels(20, 25, frames=1000)  # 500 a frame: the sum does not count
    with pytest.raises(Unprocessable) as err:
        limits.check_pixels(21, 25, frames=2)
    assert str(err.value) == (
        "source frame resolution 21x25 is over the limit of 0.0005 megapixels a frame"
    )
    # A still image is held to the whole limit, not the frame limit.
    limits.check_pixels(40, 25)
    with pytest.raises(Unprocessable, match="source resolution 41x25 is over"):
        limits.check_pixels(41, 25)
    # An empty frame is refused before the frame limit is looked at.
    with pytest.raises(Unprocessable, match="no pixels"):
        limits.check_pixels(0, 25, frames=3)


def test_the_file_size_limit_is_inclusive():
    limits = SourceLimits(max_pixels=1, max_file_size=100)
    limits.check_file_size(100)
    limits.check_file_size(0)
    with pytest.raises(PayloadTooLarge) as err:
        limits.check_file_size(101)
    assert err.value.status == 413
    # The client is told which limit: a size is no secret.
    assert err.value.reason == "source file of 101 bytes is over the limit of 100 bytes"
    assert str(err.value) == err.value.reason
