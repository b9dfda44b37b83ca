"""The kinds of setting value: how each parses, where its bounds are, what its form says."""

from __future__ import annotations

import pytest

from proxy.settings import kinds as k
from proxy.units import DURATION_FORM, SIZE_FORM


def test_a_size_kind_holds_both_bounds_and_says_them():
    kind = k.size("64k", "1t")
    assert kind.form == f"{SIZE_FORM}, from 64k to 1t"
    assert kind.parse("64k") == 64 << 10
    assert kind.parse("65536") == 64 << 10
    assert kind.parse("1t") == 1 << 40
    with pytest.raises(ValueError, match=r"^65535 is out of range: from 64k to 1t$"):
        kind.parse(str((64 << 10) - 1))
    with pytest.raises(ValueError, match=r"^1099511627777 is out of range: from 64k to 1t$"):
        kind.parse(str((1 << 40) + 1))
    with pytest.raises(ValueError, match=r"^2t is out of range"):
        kind.parse("2t")


def test_a_size_kind_refuses_what_is_not_a_size():
    with pytest.raises(ValueError, match="is not a byte count"):
        k.size("0", "1g").parse("1.5g")


def test_a_zero_low_bound_admits_zero():
    assert k.size("0", "64g").parse("0") == 0
    assert k.duration("0s", "1h").parse("0s") == 0


def test_a_duration_kind_holds_both_bounds_and_says_them():
    kind = k.duration("100ms", "1h")
    assert kind.form == f"{DURATION_FORM}, from 100ms to 1h"
    assert kind.parse("100ms") == pytest.approx(0.1)
    assert kind.parse("1h") == 3600
    assert kind.parse("59m60s") == 3600
    with pytest.raises(ValueError, match=r"^99ms is out of range: from 100ms to 1h$"):
        kind.parse("99ms")
    with pytest.raises(ValueError, match=r"^3601s is out of range: from 100ms to 1h$"):
        kind.parse("1h1s")
    with pytest.raises(ValueError, match="is not a duration"):
        kind.parse("soon")


def test_an_integer_kind_holds_both_bounds():
    kind = k.integer(16, 1024)
    assert kind.form == "an integer 16-1024"
    assert k.integer(1, 65535, "a port number").form == "a port number 1-65535"
    assert (kind.parse("16"), kind.parse("1024")) == (16, 1024)
    with pytest.raises(ValueError, match=r"^15 is out of range: from 16 to 1024$"):
        kind.parse("15")
    with pytest.raises(ValueError, match=r"^1025 is out of range: from 16 to 1024$"):
        kind.parse("1025")
    for bad in ("1.5", "ten", "0x20"):
        with pytest.raises(ValueError):
            kind.parse(bad)


def test_optional_means_derived_when_empty():
    kind = k.optional(k.integer(1, 10), "the cores")
    assert kind.form == "an integer 1-10, or empty for the cores"
    assert kind.parse("") is None
    assert kind.parse("3") == 3
    with pytest.raises(ValueError, match="out of range"):
        kind.parse("0")


def test_a_number_kind_excludes_its_low_bound_unless_told():
    kind = k.number(0, 1, "a number")
    assert kind.form == "a number, more than 0 and at most 1"
    assert kind.parse("1") == 1.0
    assert kind.parse("0.001") == 0.001
    with pytest.raises(ValueError, match=r"^0 is out of range: more than 0, at most 1$"):
        kind.parse("0")
    with pytest.raises(ValueError, match=r"^1.01 is out of range"):
        kind.parse("1.01")

    included = k.number(0, 10_000, "megapixels", low_included=True)
    assert included.form == "megapixels, at least 0 and at most 10000"
    assert included.parse("0") == 0.0
    with pytest.raises(ValueError, match=r"^-0.5 is out of range: at least 0, at most 10000$"):
        included.parse("-0.5")


@pytest.mark.parametrize("raw", ["nan", "NaN", "inf", "-inf", "infinity"])
def test_a_number_kind_refuses_what_is_not_finite(raw):
    with pytest.raises(ValueError, match="out of range"):
        k.number(0, 10_000, "megapixels", low_included=True).parse(raw)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1", True),
        ("on", True),
        ("ON", True),
        ("true", True),
        ("Yes", True),
        ("0", False),
        ("off", False),
        ("False", False),
        ("no", False),
        ("", False),
    ],
)
def test_every_flag_spelling(raw, value):
    assert k.FLAG.parse(raw) is value


@pytest.mark.parametrize("raw", ["2", "enabled", "y", "onn"])
def test_a_flag_refuses_other_words(raw):
    with pytest.raises(ValueError):
        k.FLAG.parse(raw)


def test_a_choice_is_case_insensitive_and_says_its_values():
    kind = k.choice("http", "minio", "azure")
    assert kind.form == "http, minio or azure"
    assert kind.parse("MinIO") == "minio"
    with pytest.raises(ValueError):
        kind.parse("s3")


@pytest.mark.parametrize("name", ["ab", "abc-public", "a.b_c-9", "0x", "a" * 63])
def test_good_bucket_names(name):
    assert k.BUCKETS.parse(f" {name} , other ") == (name, "other")


@pytest.mark.parametrize(
    "name", ["a", "a" * 64, "ABC", "-abc", ".abc", "a..b", "../etc", "a/b", "a b"]
)
def test_bad_bucket_names_are_named(name):
    with pytest.raises(ValueError, match=r"bad bucket name .*: 2-63 of a-z"):
        k.BUCKETS.parse(f"ok-bucket,{name}")


def test_empty_bucket_list():
    assert k.BUCKETS.parse("") == ()
    assert k.BUCKETS.parse(" , ,") == ()


def test_hex_list_for_rotation():
    assert k.HEX_LIST.parse("abcd, 00ff") == (b"\xab\xcd", b"\x00\xff")
    assert k.HEX_LIST.parse("") == ()
    for bad in ("zz", "abc", "ab,0g"):
        with pytest.raises(ValueError):
            k.HEX_LIST.parse(bad)


def test_format_quality_by_format_or_alias():
    assert k.FORMAT_QUALITY.parse("jpg=70, WEBP=1,avif=100") == {
        "jpeg": 70,
        "webp": 1,
        "avif": 100,
    }
    assert k.FORMAT_QUALITY.parse("") == {}
    with pytest.raises(ValueError, match=r"^'mp4' is not an output format$"):
        k.FORMAT_QUALITY.parse("webp=70,mp4=50")
    with pytest.raises(ValueError, match=r"'webp' is not an output format"):
        k.FORMAT_QUALITY.parse("webp")
    for bad in ("webp=0", "webp=101"):
        with pytest.raises(ValueError, match="out of 1-100"):
            k.FORMAT_QUALITY.parse(bad)
    with pytest.raises(ValueError):
        k.FORMAT_QUALITY.parse("webp=high")


def test_formats_are_canonical_sorted_and_unique():
    assert k.FORMATS.parse("tif, png,jpg,jpeg,PNG") == ("jpeg", "png", "tiff")
    assert k.FORMATS.parse("") == ()
    with pytest.raises(ValueError, match=r"^'mp4' is not an image format$"):
        k.FORMATS.parse("png,mp4")


def test_words():
    assert k.WORDS.parse(" a, b ,,c ") == ("a", "b", "c")
    assert k.WORDS.parse("") == ()


def test_presets_with_comments():
    raw = "default=q:70; #thumb=rs:fill:1:1 ; thumb = rs:fill:300:300 ;;"
    assert k.PRESETS.parse(raw) == {"default": "q:70", "thumb": "rs:fill:300:300"}
    for bad in ("thumb", "=q:70", "thumb=", "thumb= "):
        with pytest.raises(ValueError, match="bad preset"):
            k.PRESETS.parse(f"default=q:70;{bad}")


@pytest.mark.parametrize("raw", ["", "0123456789abcdef", "a.b_c~d+e/f=g-h0123"])
def test_tokens_of_sixteen_or_more_header_safe_characters(raw):
    assert k.TOKEN.parse(raw) == raw


@pytest.mark.parametrize(
    "raw", ["short", "fifteen-chars15", "has a space in it!", "ünïcødé-0123456789"]
)
def test_a_short_or_unsafe_token_is_refused(raw):
    with pytest.raises(ValueError, match="16 characters"):
        k.TOKEN.parse(raw)


@pytest.mark.parametrize(
    "raw", ["", "http://auth:9000/check", "https://auth.internal/v1/allowed?app=img"]
)
def test_service_urls(raw):
    assert k.SERVICE_URL.parse(raw) == raw


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("ftp://auth/check", "http"),
        ("auth:9000/check", "http"),
        ("http:///check", "host"),
        ("http://user:pw@auth/check", "credentials"),
        ("http://auth/check#x", "fragment"),
        ("http://auth:99999/check", "Port"),
    ],
)
def test_a_url_that_is_no_http_service_is_refused(raw, reason):
    with pytest.raises(ValueError, match=reason):
        k.SERVICE_URL.parse(raw)


def test_origins_are_kept_as_a_browser_sends_them():
    parse = k.ORIGINS.parse
    assert parse("") == ()
    assert parse(" * ") == ("*",)
    assert parse("HTTPS://App.Example:443,http://[::1]:8080, http://a.example:80") == (
        "https://app.example",
        "http://[::1]:8080",
        "http://a.example",
    )
    for bad in ("https://a.example/", "//a.example", "http://a.example:0", "http://-a.example"):
        with pytest.raises(ValueError, match="scheme://host"):
            parse(bad)
