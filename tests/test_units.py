import pytest

from proxy.units import format_duration, format_size, parse_duration, parse_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("512", 512),
        ("512k", 524288),
        ("512K", 524288),
        ("1m", 1 << 20),
        ("10g", 10 << 30),
        (" 2G ", 2 << 30),
        ("1t", 1 << 40),
    ],
)
def test_sizes_in_nginx_syntax(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "k", "1.5g", "-1m", "10gb", "ten", "1 g b"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ValueError):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30", 30),
        ("30s", 30),
        ("15m", 900),
        ("12h", 43200),
        ("7d", 604800),
        ("1w", 604800),
        ("1h30m", 5400),
        ("500ms", 0.5),
        ("1M", 30 * 86400),
        ("1y", 365 * 86400),
    ],
)
def test_durations_in_nginx_syntax(text, expected):
    assert parse_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "h", "1.5h", "-3s", "3 days", "1x"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration_round_trips():
    for text in ("7d", "12h", "15m", "30s"):
        assert format_duration(parse_duration(text)) == text


def test_format_size():
    assert format_size(512) == "512 B"
    assert format_size(1536) == "1.5 KiB"
    assert format_size(3 * 1024**3) == "3.0 GiB"
