"""Thousands of generated and mutated paths against the real app: never a 5xx, never a
dropped connection, whatever the path holds."""

import string

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.conftest import encode_image

SEGMENT = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@", max_size=40),
    st.sampled_from(["..", ".", "", "%2e%2e", "%2f", "%00", "%ff", "%c0%af", "a" * 300, "%"]),
    st.text(max_size=12).map(lambda t: "".join(f"%{b:02x}" for b in t.encode("utf-8"))),
)
PATH = st.lists(SEGMENT, min_size=1, max_size=8).map(lambda parts: "/" + "/".join(parts))
PREFIX = st.sampled_from(
    ["", "/abc-public", "/abc-private", "/image-converter/convert/abc-public",
     "/image-converter/videoframe/1/abc-public", "/image-converter/videoframe/33p/abc-public"]
)  # fmt: skip


@settings(
    max_examples=1500,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(prefix=PREFIX, path=PATH, method=st.sampled_from(["GET", "HEAD", "GET"]))
async def test_no_path_makes_a_5xx_or_drops_the_connection(client, put_file, prefix, path, method):
    put_file("a.jpg", encode_image(32, 24))
    base = str(client.make_url("/")).rstrip("/")
    url = URL(base + prefix + path, encoded=True)  # sent as is, '//' and '%' included
    try:
        response = await client.session.request(method, url, allow_redirects=False)
        await response.read()
    except aiohttp.ClientError as exc:  # a dropped connection is a failure too
        raise AssertionError(f"{method} {prefix + path}: {exc!r}") from exc
    assert response.status < 500, f"{method} {prefix + path}: {response.status}"
