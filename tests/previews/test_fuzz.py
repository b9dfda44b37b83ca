"""Fuzzing the preview URL grammar against the real app: never a 5xx, never a cut answer.

Hypothesis makes thousands of preview URLs: well-formed option lists with hostile values
(huge, negative, not finite, the wrong type, empty, percent-escaped bytes), then random
edits of them. Each goes to the app on loopback over a raw socket, so nothing on the
client side tidies the request, and the whole answer is read: a status line under 500 and
exactly Content-Length bytes of body. The examples are derived from this file, not the
clock (derandomize), so CI runs the same URLs every time.
"""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxy.previews.parse import PARSERS
from tests.conftest import encode_image
from tests.previews.conftest import with_alpha
from tests.previews.imgproxy.sources import make

SOURCES = [
    f"abc-public/f/{name}" for name in ("a.png", "b.jpg", "c.gif", "d.svg", "e.tiff", "g.bmp")
]
NAMES = [*sorted(PARSERS), "pr", "preset", "bogus", "RS", "", "min_width"]
WORDS = ["fit", "fill", "fill-down", "force", "auto", "ce", "no", "sowe", "sm", "fp", "re"]
WORDS += ["jpeg", "jpg", "png", "webp", "avif", "gif", "tiff", "bmp", "ico", "heic", "svg"]
WORDS += ["jxl", "PNG", "tif", "f00", "ffffff", "#fff", "true", "false", "1", "0", "t", "yes"]
NUMBERS = ["1e308", "-1e308", "1e400", "nan", "NaN", "inf", "-inf", "0x1p-2", "0x1p99999"]
NUMBERS += ["2147483647", "2147483648", "-2147483648", "99999999999999999999", "1_000"]
NUMBERS += [" 10", "+10", "-0", "0.5", "-0.5", "1.", ".5", "1e-320", "3.4e38"]
ESCAPES = ["%3A", "%3a", "%2F", "%3F", "%40", "%00", "%0D%0A", "%FF", "%zz", "%", "%25"]

arguments = st.one_of(
    st.integers(min_value=0, max_value=300).map(str),  # values a render gets past parsing
    st.sampled_from(WORDS),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(NUMBERS + WORDS + ESCAPES + [""]),
    st.text(alphabet="abcXYZ019-_.~+*%!$'()", max_size=8),
)
options = st.lists(
    st.tuples(st.sampled_from(NAMES), st.lists(arguments, max_size=8)).map(
        lambda pair: ":".join([pair[0], *pair[1]])
    ),
    max_size=6,
)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@st.composite
def preview_paths(draw: st.DrawFn) -> str:
    source = draw(st.sampled_from(SOURCES))
    form = draw(st.sampled_from(["plain", "base64", "legacy", "empty"]))
    ext = draw(st.sampled_from(["", "png", "jpg", "webp", "gif", "bmp", "ico", "foo", "svg"]))
    opts = "/".join(draw(options))
    signature = draw(st.sampled_from(["q", "_", "insecure", "", "a:b", "x" * 43]))
    if form == "plain":
        tail = f"plain/{source}" + (f"@{ext}" if ext else "")
    elif form == "base64":
        tail = _b64(source) + (f".{ext}" if ext else "")
    elif form == "legacy":
        return f"/previews/{draw(st.sampled_from(['300x', 'x20', '0x0', '99999x']))},{ext or 'jpeg'},q70/{source}"
    else:
        tail = f"/plain/{source}"
    return f"/previews/{signature}/{opts}/{tail}" if opts else f"/previews/{signature}/{tail}"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A URL with characters inserted, dropped or replaced, escapes among them."""
    path = list(draw(preview_paths()))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(path)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from([*ESCAPES, ":", "/", "@", ".", "=", "?", "&", "~", "0"]))
        if edit == "insert" or at == len(path):
            path.insert(at, piece)
        elif edit == "delete" and at > len("/previews/"):
            del path[at]
        else:
            path[at] = piece
    return "".join(path)


def fetch_raw(port: int, target: str) -> tuple[int, bytes]:
    """GET `target` verbatim; the status and the whole body, read until the server closes."""
    request = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request.encode("latin-1"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    raw = b"".join(chunks)
    head, separator, body = raw.partition(b"\r\n\r\n")
    assert separator, f"no complete answer for {target!r}: {raw[:200]!r}"
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(
        (int(h.split(":", 1)[1]) for h in lines[1:] if h.lower().startswith("content-length:")),
        None,
    )
    assert length is None or len(body) == length, f"cut answer for {target!r}"
    return status, body


def _check(port: int, target: str) -> None:
    status, body = fetch_raw(port, target)
    assert status < 500, f"{status} for {target!r}: {body[:200]!r}"


FUZZ = settings(
    max_examples=1500,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


async def test_preview_urls_never_fail_the_server(
    make_client: Callable[..., Any], make_settings: Callable[..., Any], put_file: Callable[..., Any]
) -> None:
    put_file("f/a.png", with_alpha(48, 32))
    put_file("f/b.jpg", encode_image(64, 48))
    put_file("f/c.gif", encode_image(24, 16, ".gif"))
    put_file("f/d.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"/>')
    put_file("f/e.tiff", make("test-images/tiff/16-bpp-grayscale.tiff"))
    put_file("f/g.bmp", make("test-images/bmp/32-bpp-with-alpha-self-gen.bmp"))
    client = await make_client(
        make_settings(PREVIEWS_PRESETS="a=pr:b/w:10;b=pr:a", PREVIEWS_MAX_RESULT_DIMENSION="512")
    )
    port = client.server.port

    @FUZZ
    @given(preview_paths())
    def well_formed(target: str) -> None:
        _check(port, target)

    @FUZZ
    @given(mutated())
    def edited(target: str) -> None:
        _check(port, target)

    # Hypothesis runs synchronously; the app answers on this loop meanwhile.
    await asyncio.to_thread(well_formed)
    await asyncio.to_thread(edited)
