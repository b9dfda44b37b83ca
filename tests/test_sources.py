"""What a preview is made from: an original or a converter output, and its stable identity."""

from __future__ import annotations

from proxy.sources import CONVERTER_PREFIX, SourceRef


def test_an_original_is_its_bucket_and_key():
    ref = SourceRef("abc-public", "images/a b.jpg")
    assert ref.origin == "abc-public/images/a b.jpg"
    assert ref.canonical() == "abc-public/images/a b.jpg"


def test_a_converter_output_names_its_converter_origin_and_arguments():
    ref = SourceRef("abc-public", "v/clip.mp4", "videoframe", (("frame", "3"), ("t", "1.5")))
    assert ref.origin == "abc-public/v/clip.mp4"
    assert ref.canonical() == "image-converter/videoframe/abc-public/v/clip.mp4?frame=3&t=1.5"
    assert ref.canonical().startswith(CONVERTER_PREFIX)
    assert SourceRef("b1", "k", "convert").canonical() == "image-converter/convert/b1/k?"


def test_equal_sources_have_equal_identities():
    one = SourceRef("b1", "k", "convert", (("f", "png"),))
    assert one == SourceRef("b1", "k", "convert", (("f", "png"),))
    assert hash(one) == hash(SourceRef("b1", "k", "convert", (("f", "png"),)))
    others = {
        SourceRef("b1", "k"),
        SourceRef("b1", "k", "convert"),
        SourceRef("b1", "k", "convert", (("f", "jpeg"),)),
        SourceRef("b1", "k", "videoframe", (("f", "png"),)),
        one,
    }
    assert len({ref.canonical() for ref in others}) == 5
