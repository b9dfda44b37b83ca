"""The objects a cluster test stores, every request for them, and what each answer must be."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pyvips

from tests.cluster.client import Answer
from tests.cluster.routing import (
    Form,
    converted_forms,
    original_forms,
    preview_forms,
    proxy_source,
    video_forms,
)
from tests.conftest import encode_image
from tests.converter import media

WIDTHS = tuple(range(32, 321, 32))  # ten preview sizes
IMAGE_SIZE = (400, 300)
VIDEO_SIZE = (320, 240)
# Keys that are awkward to spell in a URL, plus plain ones.
AWKWARD_KEYS = (
    "images/été 2024/a+b (1)@2x.png",
    "docs/100% real;v=1,2&x=y.jpg",
    "q?x=1&y#frag.jpg",
    "日本/写真.jpeg",
    "plain/rs:fit:1:2/image-converter/convert/looks-like-a-url.jpg",
    "a/b/c/d/e/f/g/h/i/j/deep.name.with.dots.tiff",
    "%41 is not A.jpg",
)
SUFFIX = {"jpg": ".jpg", "jpeg": ".jpg", "png": ".png", "tiff": ".tif"}
PASSED_THROUGH = ("jpg", "jpeg", "png")  # the converter answers these unchanged


@dataclass(frozen=True)
class SourceObject:
    key: str
    data: bytes
    video: bool = False

    @property
    def suffix(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    @cached_property
    def size(self) -> tuple[int, int]:
        return VIDEO_SIZE if self.video else IMAGE_SIZE


def make_objects() -> list[SourceObject]:
    """18 images (7 with awkward keys) and 2 videos: 20 objects."""
    keys = [*AWKWARD_KEYS, *(f"images/original/{i % 4}/X/{i}/photo-{i}.jpg" for i in range(11))]
    images = [
        SourceObject(key, encode_image(*IMAGE_SIZE, SUFFIX[key.rsplit(".", 1)[-1]])) for key in keys
    ]
    videos = [
        SourceObject(f"videos/clip {i}.mp4", media.video("mp4", "libx264", 10, VIDEO_SIZE), True)
        for i in range(2)
    ]
    return images + videos


def requests_for(bucket: str, obj: SourceObject, *, ranges: bool = True) -> list[Form]:
    """Every form of every request for one object (a Range of an uncached object joins the
    fill of the whole object, so ranges belong in a cold pass too). Forms that, by imgproxy's
    grammar, name another object (a plain source is cut at a '?') are left out."""
    forms = [f for f in original_forms(bucket, obj.key) if ranges or f.what != "range"]
    for width in WIDTHS:
        if obj.video:
            forms += video_forms(bucket, obj.key, width)
        else:
            forms += preview_forms(bucket, obj.key, width)
    if not obj.video:
        for width in WIDTHS[:3]:
            forms += converted_forms(bucket, obj.key, width)
    origin = f"{bucket}/{obj.key}"
    return [f for f in forms if proxy_source(f.raw_path, f.raw_query) == origin]


def problem(answer: Answer, obj: SourceObject) -> str:
    """What is wrong with an answer ("" when it is right)."""
    form, body = answer.form, answer.body
    expected_status = {"range": 206}.get(form.what, 200)
    if answer.status != expected_status:
        return f"{form.label} {form.path}: {answer.status} {body[:200]!r}"
    if form.what == "original":
        return "" if body == obj.data else f"{form.label}: wrong bytes"
    if form.what == "head":
        length = answer.headers.get("Content-Length")
        return "" if body == b"" and length == str(len(obj.data)) else f"{form.label}: {length}"
    if form.what == "range":
        return "" if body == obj.data[10:110] else f"{form.label}: wrong range"
    if form.what == "converted" and obj.suffix in PASSED_THROUGH:
        return "" if body == obj.data else f"{form.label}: not passed through"
    image = pyvips.Image.new_from_buffer(body, "")
    width = form.width or obj.size[0]
    if (image.width, image.height) != (width, width * obj.size[1] // obj.size[0]):
        return f"{form.label} {form.path}: {image.width}x{image.height}, wanted width {width}"
    return ""
