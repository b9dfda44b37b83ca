"""GET and HEAD /<bucket>/<key>: the stored object, byte for byte."""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from proxy.errors import BadRequest, NotFound
from proxy.web.conditional import byte_range_request
from proxy.web.delivery import MetaOnly, respond
from proxy.web.services import services


def split_object_path(raw_path: str) -> tuple[str, str]:
    """(bucket, key) from a still percent-encoded path; decoded exactly once."""
    bucket, _, raw_key = raw_path.lstrip("/").partition("/")
    if not bucket or not raw_key or raw_key.endswith("/"):
        raise NotFound("not found")  # no listing of the root, a bucket or a folder
    key = unquote(raw_key, errors="strict")
    if "\x00" in key:
        raise BadRequest("NUL byte in key")
    return unquote(bucket), key


async def original(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    try:
        bucket, key = split_object_path(request.rel_url.raw_path)
    except UnicodeDecodeError as exc:
        raise BadRequest("key is not valid UTF-8") from exc
    if not svc.storage.has_bucket(bucket):
        raise NotFound("not found")
    cache_control = svc.settings.cache_control

    if request.method == "HEAD":
        entry = svc.originals.lookup(bucket, key)
        if entry is not None:
            async with entry:
                return await respond(request, entry, cache_control=cache_control)
        meta = await svc.originals.head(bucket, key)
        return await respond(request, MetaOnly(meta), cache_control=cache_control)

    span = byte_range_request(request)
    if span is not None:
        result = await svc.originals.get_range(bucket, key, *span)
    else:
        result = await svc.originals.get(bucket, key)
    async with result:
        return await respond(request, result, cache_control=cache_control)
