"""Validators and ranges: If-None-Match, If-Modified-Since, If-Range and Range, to 304/206/416."""

from __future__ import annotations

import os
from email.utils import formatdate

import pytest
from aiohttp.test_utils import make_mocked_request

from proxy.cache import Meta
from proxy.errors import RangeNotSatisfiable
from proxy.web.conditional import (
    byte_range_request,
    if_range_allows,
    is_not_modified,
    requested_range,
)

MODIFIED = 1_700_000_000.75  # a fraction of a second: HTTP dates have none
META = Meta("image/jpeg", "abc-123", MODIFIED, 1000)
DATE = formatdate(int(MODIFIED), usegmt=True)
EARLIER = formatdate(MODIFIED - 3600, usegmt=True)
LATER = formatdate(MODIFIED + 3600, usegmt=True)


def request(method: str = "GET", **headers: str):  # type: ignore[no-untyped-def]
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return make_mocked_request(method, "/b/k", headers=named)


@pytest.mark.parametrize(
    ("headers", "not_modified"),
    [
        ({}, False),
        ({"If_None_Match": '"abc-123"'}, True),
        ({"If_None_Match": 'W/"abc-123"'}, True),  # weak comparison
        ({"If_None_Match": '"x", "abc-123" , "y"'}, True),
        ({"If_None_Match": "*"}, True),
        ({"If_None_Match": '"abc-12"'}, False),
        ({"If_None_Match": "abc-123"}, False),  # unquoted: not the same tag
        ({"If_None_Match": ""}, False),
        ({"If_Modified_Since": DATE}, True),  # same second
        ({"If_Modified_Since": LATER}, True),
        ({"If_Modified_Since": EARLIER}, False),
        ({"If_Modified_Since": "yesterday-ish"}, False),
        # If-None-Match wins over If-Modified-Since, either way round.
        ({"If_None_Match": '"other"', "If_Modified_Since": LATER}, False),
        ({"If_None_Match": '"abc-123"', "If_Modified_Since": EARLIER}, True),
    ],
)
def test_not_modified(headers, not_modified):
    assert is_not_modified(request(**headers), META) is not_modified


def test_if_modified_since_is_only_for_get_and_head():
    assert is_not_modified(request("HEAD", If_Modified_Since=LATER), META)
    assert not is_not_modified(request("POST", If_Modified_Since=LATER), META)


@pytest.mark.parametrize(
    ("header", "span"),
    [
        (None, None),
        ("bytes=0-99", (0, 99)),
        ("bytes=0-0", (0, 0)),
        ("bytes=900-", (900, 999)),
        ("bytes=990-5000", (990, 999)),  # clipped to the body
        ("bytes=-10", (990, 999)),
        ("bytes=-5000", (0, 999)),  # a suffix longer than the body: all of it
        ("Bytes = 5 - 9", (5, 9)),  # case and spaces
        ("bytes=9-5", None),  # last before first: ignored, the whole body
        ("bytes=abc", None),
        ("bytes=-", None),
        ("bytes=0-1,5-9", None),  # several ranges: the whole body
        ("items=0-1", None),
    ],
)
def test_requested_ranges(header, span):
    headers = {} if header is None else {"Range": header}
    assert requested_range(request(**headers), 1000) == span


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_ranges_are_416_with_the_size(header):
    with pytest.raises(RangeNotSatisfiable) as raised:
        requested_range(request(Range=header), 1000)
    assert raised.value.headers == {"Content-Range": "bytes */1000"}


def test_a_range_is_only_for_get_and_head():
    assert requested_range(request("HEAD", Range="bytes=0-9"), 1000) == (0, 9)
    assert requested_range(request("POST", Range="bytes=0-9"), 1000) is None


@pytest.mark.parametrize(
    ("if_range", "allowed"),
    [
        (None, True),
        ('"abc-123"', True),
        (' "abc-123" ', True),
        ('"other"', False),
        ('W/"abc-123"', False),  # If-Range needs a strong validator
        (DATE, True),
        (LATER, True),
        (EARLIER, False),
        ("not a date", False),
    ],
)
def test_if_range(if_range, allowed):
    headers = {} if if_range is None else {"If-Range": if_range}
    assert if_range_allows(request(Range="bytes=0-9", **headers), META) is allowed


@pytest.mark.parametrize(
    ("method", "headers", "wanted"),
    [
        ("GET", {"Range": "bytes=10-19"}, (10, 19)),
        ("GET", {"Range": "bytes=10-"}, (10, None)),
        ("GET", {"Range": "bytes=-7"}, (-7, None)),
        ("GET", {"Range": "bytes=-0"}, None),
        ("GET", {"Range": "bytes=9-5"}, None),
        ("GET", {}, None),
        ("HEAD", {"Range": "bytes=10-19"}, None),  # a HEAD reads no bytes
        ("GET", {"Range": "bytes=10-19", "If-Range": '"abc-123"'}, None),  # the size decides
    ],
)
def test_the_range_asked_of_the_store_before_the_size_is_known(method, headers, wanted):
    assert byte_range_request(make_mocked_request(method, "/b/k", headers=headers)) == wanted


# -- through the app ------------------------------------------------------------------------


@pytest.fixture
async def stored(client, put_file):
    body = os.urandom(1000)
    put_file("c/k.bin", body)
    first = await client.get("/abc-public/c/k.bin")
    assert await first.read() == body
    return body, first.headers["ETag"], first.headers["Last-Modified"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    ("headers", "status", "span"),
    [
        ({"Range": "bytes=-0"}, 416, None),
        ({"Range": "bytes=1000-"}, 416, None),
        ({"Range": "bytes=-5000"}, 200, (0, 999)),
        ({"Range": "bytes=0-"}, 200, (0, 999)),
        ({"Range": "bytes=9-5"}, 200, (0, 999)),
        ({"Range": "bytes=998-5000"}, 206, (998, 999)),
        ({"Range": "bytes=0-9", "If-Range": '"stale"'}, 200, (0, 999)),
        ({"If-None-Match": "*", "Range": "bytes=0-9"}, 304, None),
    ],
)
async def test_answers(client, stored, method, headers, status, span):
    body, _, _ = stored
    response = await client.request(method, "/abc-public/c/k.bin", headers=headers)
    assert response.status == status
    data = await response.read()
    if status == 416:
        assert response.headers["Content-Range"] == "bytes */1000"
    elif status == 304:
        assert data == b"" and "Content-Range" not in response.headers
    else:
        start, end = span
        assert response.headers["Content-Length"] == str(end - start + 1)
        assert data == (b"" if method == "HEAD" else body[start : end + 1])
        assert ("Content-Range" in response.headers) is (status == 206)


async def test_validators_from_the_answer_make_a_304_and_a_changed_one_a_200(client, stored):
    _, etag, modified = stored
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
        response = await client.get("/abc-public/c/k.bin", headers=headers)
        assert response.status == 304 and response.headers["ETag"] == etag
    changed = {"If-None-Match": '"changed"', "If-Modified-Since": modified}
    assert (await client.get("/abc-public/c/k.bin", headers=changed)).status == 200
