"""Routes under /image-converter/: converted images and video frames."""

from __future__ import annotations

from urllib.parse import unquote

from aiohttp import web

from proxy.converter.service import ImageConverter
from proxy.errors import BadRequest, NotFound
from proxy.sources import CONVERTER, converter_of
from proxy.web.delivery import respond
from proxy.web.services import Services, services

PREFIX = "/image-converter/"


async def convert(request: web.Request) -> web.StreamResponse:
    svc = services(request)
    converter = converter_of(svc)
    assert converter is not None
    try:
        path = unquote(request.rel_url.raw_path[len(PREFIX) :], errors="strict")
    except UnicodeDecodeError as exc:
        raise BadRequest("path is not valid UTF-8") from exc
    ref = converter.parse(path, request.query)
    if not svc.storage.has_bucket(ref.bucket):
        raise NotFound("not found")
    async with await converter.entry(ref) as entry:
        return await respond(request, entry, cache_control=svc.settings.cache_control)


def setup(app: web.Application, svc: Services) -> None:
    """Register the converter routes, and the converter in svc.extras["converter"]."""
    converter = ImageConverter.from_services(svc)
    svc.extras[CONVERTER] = converter
    app.router.add_get(PREFIX + "{tail:.*}", convert)
