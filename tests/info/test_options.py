"""/info's options: imgproxy's names and short names, their arguments, the canonical form a
cache key is made of, and the 400s and 403s of bad ones."""

from __future__ import annotations

import time

import pytest

from proxy.errors import BadRequest, Forbidden, NotFound
from proxy.info.options import InfoOptions, check_expiry, parse_info_options


def test_the_defaults_are_imgproxys() -> None:
    options = parse_info_options([])
    assert (options.size, options.format, options.dimensions, options.exif) == (True,) * 4
    assert (options.iptc, options.xmp, options.video_meta) == (True,) * 3
    assert (options.alpha, options.average, options.thumbhash, options.blurhash) == (
        False, False, False, (0, 0),
    )  # fmt: skip
    assert options.canonical() == "-"


def test_long_and_short_names_share_one_canonical_form() -> None:
    short = parse_info_options(["d:1", "bh:4:3", "chs:sha256:md5", "th:t"])
    long = parse_info_options(
        ["dimensions:true", "blurhash:4:3", "calc_hashsums:md5:sha256", "thumbhash:1"]
    )
    assert short == long
    assert short.canonical() == long.canonical() == "blurhash:4:3/thumbhash:1/hashsums:md5:sha256"


def test_the_last_of_a_repeated_option_wins() -> None:
    assert parse_info_options(["s:0", "size:1"]).size is True


@pytest.mark.parametrize(
    ("segment", "reason"),
    [
        ("bogus:1", "unknown info option 'bogus'"),
        ("dimensions", "is not an info option"),
        ("bh:10:3", "bh"),
        ("bh:4:0", "must both be 1-9, or both 0"),
        ("chs:crc32", "unknown hashsum 'crc32'"),
        ("pg:-1", "pg"),
    ],
)
def test_a_bad_option_is_a_400_naming_it(segment: str, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_info_options([segment])
    assert caught.value.status == 400
    assert reason in str(caught.value)


def test_security_options_need_the_setting() -> None:
    with pytest.raises(Forbidden):
        parse_info_options(["msr:10"])
    assert parse_info_options(["msr:10"], allow_security_options=True).max_src_resolution == 10
    # They refuse sources, never change an answer: not in the key.
    assert parse_info_options(["msr:10"], True).canonical() == InfoOptions().canonical()


def test_a_past_expiry_is_not_found() -> None:
    check_expiry(parse_info_options([f"exp:{int(time.time()) + 60}"]))
    with pytest.raises(NotFound):
        check_expiry(parse_info_options([f"exp:{int(time.time()) - 1}"]))
