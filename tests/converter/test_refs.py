import pytest

from proxy.converter.refs import format_of, parse, position_of, stream_index_of
from proxy.errors import BadRequest, NotFound, RangeNotSatisfiable


def test_equivalent_spellings_share_one_canonical_form():
    a = parse("videoframe/33p/abc-public/v/x.mp4", {})
    b = parse("videoframe/33.0p/abc-public/v/x.mp4", {"videoStreamIndex": "0"})
    c = parse("videoframe/033.000p/abc-public/v/x.mp4", {"unrelated": "1"})
    assert a == b == c
    assert (
        a.canonical() == "image-converter/videoframe/abc-public/v/x.mp4?pos=33p&videoStreamIndex=0"
    )
    assert a.origin == "abc-public/v/x.mp4"


def test_positions():
    assert str(position_of(parse("videoframe/0012/b1/k", {}))) == "12"
    assert str(position_of(parse("videoframe/1.50s/b1/k", {}))) == "1.5s"
    assert str(position_of(parse("videoframe/12.25p/b1/k", {}))) == "12.25p"
    assert stream_index_of(parse("videoframe/1/b1/k", {"videoStreamIndex": "2"})) == 2


def test_convert_with_format():
    ref = parse("convert/abc-public/a/b c.tif", {"format": "JPG"})
    assert (ref.bucket, ref.key, ref.converter) == ("abc-public", "a/b c.tif", "convert")
    assert format_of(ref) == "jpeg"
    assert parse("convert/abc-public/a.tif", {}).canonical().endswith("a.tif?")


@pytest.mark.parametrize(
    ("path", "query", "error"),
    [
        ("convert/abc-public", {}, NotFound),
        ("convert/abc-public/a.tif", {"format": "gif"}, BadRequest),
        ("resize/abc-public/a.tif", {}, NotFound),
        ("videoframe/-1/abc-public/a.mp4", {}, BadRequest),
        ("videoframe/nanp/abc-public/a.mp4", {}, BadRequest),
        ("videoframe/1e3s/abc-public/a.mp4", {}, BadRequest),
        ("videoframe/100.5p/abc-public/a.mp4", {}, RangeNotSatisfiable),
        ("videoframe/1/abc-public/a.mp4", {"videoStreamIndex": "x"}, BadRequest),
        ("videoframe/1/abc-public/a.mp4", {"videoStreamIndex": "999"}, BadRequest),
    ],
)
def test_bad_paths(path, query, error):
    with pytest.raises(error):
        parse(path, query)
