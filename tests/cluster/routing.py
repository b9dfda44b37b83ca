"""What the routing key must be, and every way a client may spell a request for one object.

The reference is the proxy's own parsers: whatever the proxy decodes as a request's source
object is what HAProxy must hash, in every URL form. If the URL contract changes there, the
routing tests fail until config/haproxy/haproxy.cfg follows.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote

from proxy.converter import refs
from proxy.errors import ProxyError
from proxy.previews.url import parse_url
from proxy.sources import CONVERTER_PREFIX
from proxy.web.routes import CONVERTER, INFO, PREVIEWS, split_object_path


def proxy_source(raw_path: str, raw_query: str = "") -> str | None:
    """The "<bucket>/<key>" the proxy reads to answer this request; None if it reads none."""
    try:
        if raw_path in ("/health", "/metrics"):
            return None
        if raw_path.startswith(PREVIEWS):
            url = parse_url(raw_path[len(PREVIEWS) :], raw_query)
            return _origin(url.source, dict(url.query))
        if raw_path.startswith(INFO):
            # /info takes previews' URL forms, without the legacy one or an extension.
            url = parse_url(raw_path[len(INFO) :], raw_query)
            if url.signature is None or url.extension is not None:
                return None
            return _origin(url.source, dict(url.query))
        if raw_path.startswith(CONVERTER):
            path = unquote(raw_path[len(CONVERTER) :], errors="strict")
            return refs.parse(path, dict(parse_qsl(raw_query))).origin
        bucket, key = split_object_path(raw_path)
        return f"{bucket}/{key}"
    except ProxyError:
        return None


def _origin(source: str, query: dict[str, str]) -> str | None:
    if source.startswith(CONVERTER_PREFIX):
        return refs.parse(source[len(CONVERTER_PREFIX) :], query).origin
    bucket, _, key = source.partition("/")
    return f"{bucket}/{key}" if key else None


# --- spellings -------------------------------------------------------------------------------


def standard(text: str) -> str:
    """Percent-encoded as most clients do: everything but unreserved characters and '/'."""
    return quote(text, safe="/")


def lenient(text: str) -> str:
    """Sub-delimiters, '@' and ':' left raw, as some URL builders leave them."""
    return quote(text, safe="/+@,;:=!$&'()*")


def plain_lenient(text: str) -> str:
    """As `lenient`, but with '@' escaped: in a plain source a raw '@' starts the extension
    (imgproxy's rule), so clients escape one that belongs to the key."""
    return quote(text, safe="/+,;:=!$&'()*")


def shouting(text: str) -> str:
    """Every byte but '/' percent-encoded, in lower-case hex: legal, if unusual."""
    return "/".join("".join(f"%{b:02x}" for b in part.encode()) for part in text.split("/"))


def every_slash(text: str) -> str:
    """'/' encoded too (%2F): the proxy decodes a plain source as a whole."""
    return quote(text, safe="")


SPELLINGS = {"standard": standard, "lenient": lenient, "shouting": shouting}


def b64(text: str, *, pad: bool = False) -> str:
    encoded = base64.urlsafe_b64encode(text.encode()).decode()
    return encoded if pad else encoded.rstrip("=")


def split(encoded: str, every: int = 9) -> str:
    return "/".join(encoded[i : i + every] for i in range(0, len(encoded), every))


@dataclass(frozen=True)
class Form:
    """One request: `what` says what the answer is (an original, a preview, a conversion)."""

    label: str
    path: str  # as sent: already percent-encoded, with its query string
    what: str
    width: int = 0
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def raw_path(self) -> str:
        return self.path.partition("?")[0]

    @property
    def raw_query(self) -> str:
        return self.path.partition("?")[2]


def original_forms(bucket: str, key: str) -> list[Form]:
    forms = []
    for name, spell in SPELLINGS.items():
        forms.append(Form(f"original {name}", f"/{bucket}/{spell(key)}", "original"))
    forms += [
        Form("original with a query", f"/{bucket}/{standard(key)}?v=2&x=%2F", "original"),
        Form("original HEAD", f"/{bucket}/{standard(key)}", "head", method="HEAD"),
        Form(
            "original range",
            f"/{bucket}/{lenient(key)}",
            "range",
            headers={"Range": "bytes=10-109"},
        ),
    ]
    return forms


def b64_source(bucket: str, key: str) -> str:
    """A source as base64url carries it: a URL path, so raw unless the key needs escapes."""
    if "?" in key or "%" in key:
        return f"{bucket}/{standard(key)}"
    return f"{bucket}/{key}"


def preview_forms(bucket: str, key: str, width: int) -> list[Form]:
    """Every spelling of one preview (a JPEG `width` wide); all share one cache entry."""
    options = f"rs:fit:{width}:0/q:70"
    long_options = f"ext:jpeg/resize:fit:{width}:0:0/quality:70"
    source = b64_source(bucket, key)
    encoded = f"{bucket}/{standard(key)}"
    forms = [
        Form("plain", f"/previews/q/{options}/f:jpeg/plain/{bucket}/{standard(key)}", "preview"),
        Form(
            "plain @ext",
            f"/previews/_/{options}/plain/{bucket}/{plain_lenient(key)}@jpg",
            "preview",
        ),
        Form(
            "plain, %2F, %3A in the options and an empty segment",
            f"/previews/insecure//rs%3Afit%3A{width}%3A0/q%3A70/plain/{every_slash(f'{bucket}/{key}')}@jpeg",
            "preview",
        ),
        Form(
            "plain, every byte encoded",
            f"/previews/q/{long_options}/plain/{bucket}/{shouting(key)}@jpeg",
            "preview",
        ),
        Form("base64url", f"/previews/q/{options}/f:jpg/{b64(source)}", "preview"),
        Form("base64url .ext", f"/previews/q/{options}/{b64(source)}.jpg", "preview"),
        Form(
            "base64url padded, split, .ext",
            f"/previews/q/{options}/{split(b64(source, pad=True))}.jpg",
            "preview",
        ),
        Form(
            "base64url of an encoded path, with a query",
            f"/previews/{b64('not-a-real-signature')}/{long_options}/{b64(encoded + '?x=1')}.jpeg",
            "preview",
        ),
        Form(
            "base64url, '+' for '-'",
            f"/previews/q/{options}/{b64(source).replace('-', '+')}.jpg",
            "preview",
        ),
        Form("legacy", f"/previews/{width}x,jpeg,q70/{bucket}/{standard(key)}", "preview"),
    ]
    return [Form(f.label, f.path, f.what, width) for f in forms]


def converted_forms(bucket: str, key: str, width: int) -> list[Form]:
    """The image converter's output of an image, and previews of it in every form."""
    inner = f"image-converter/convert/{b64_source(bucket, key)}"
    forms = [
        Form("convert", f"/image-converter/convert/{bucket}/{standard(key)}", "converted"),
        Form(
            "preview of convert, plain",
            f"/previews/q/rs:fit:{width}:0/plain/image-converter/convert/{bucket}/{plain_lenient(key)}@png",
            "converted preview",
            width,
        ),
        Form(
            "preview of convert, base64url",
            f"/previews/q/rs:fit:{width}:0/{b64(inner)}.png",
            "converted preview",
            width,
        ),
        Form(
            "preview of convert, legacy",
            f"/previews/{width}x,png,q80/image-converter/convert/{bucket}/{standard(key)}",
            "converted preview",
            width,
        ),
    ]
    return forms


def video_forms(bucket: str, key: str, width: int) -> list[Form]:
    """A video's frame, and previews of the frame in every form."""
    frame = f"image-converter/videoframe/33p/{b64_source(bucket, key)}"
    return [
        Form(
            "videoframe",
            f"/image-converter/videoframe/33p/{bucket}/{standard(key)}?videoStreamIndex=0",
            "frame",
        ),
        Form(
            "preview of videoframe, plain",
            f"/previews/q/rs:fit:{width}:0/plain/image-converter/videoframe/33p/{bucket}/{standard(key)}@jpg?videoStreamIndex=0",
            "frame preview",
            width,
        ),
        Form(
            "preview of videoframe, base64url",
            f"/previews/q/rs:fit:{width}:0/{split(b64(frame + '?videoStreamIndex=0'))}.jpg",
            "frame preview",
            width,
        ),
        Form(
            "preview of videoframe, legacy",
            f"/previews/{width}x,jpeg,q70/image-converter/videoframe/33.0p/{bucket}/{lenient(key)}",
            "frame preview",
            width,
        ),
    ]


def info_forms(bucket: str, key: str) -> list[Form]:
    """`/info` of one object, of its conversion and of a video frame, in previews' forms."""
    source = b64_source(bucket, key)
    encoded = f"{bucket}/{standard(key)}"
    frame = f"image-converter/videoframe/33p/{source}"
    return [
        Form("info plain", f"/info/q/d:1/plain/{bucket}/{standard(key)}", "info"),
        Form(
            "info plain, %3A in the options and an empty segment",
            f"/info/insecure//bh%3A4%3A3/plain/{every_slash(f'{bucket}/{key}')}",
            "info",
        ),
        Form("info plain, every byte encoded", f"/info/q/plain/{bucket}/{shouting(key)}", "info"),
        Form("info base64url", f"/info/q/d:1/{b64(source)}", "info"),
        Form("info base64url padded, split", f"/info/q/{split(b64(source, pad=True))}", "info"),
        Form(
            "info base64url of an encoded path, with a query",
            f"/info/q/s:1/{b64(encoded + '?x=1')}",
            "info",
        ),
        Form("info base64url, '+' for '-'", f"/info/q/{b64(source).replace('-', '+')}", "info"),
        Form(
            "info of convert, plain",
            f"/info/q/d:1/plain/image-converter/convert/{bucket}/{plain_lenient(key)}",
            "info",
        ),
        Form(
            "info of videoframe, base64url",
            f"/info/q/d:1/{split(b64(frame + '?videoStreamIndex=0'))}",
            "info",
        ),
    ]
