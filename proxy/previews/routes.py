"""Routes under /previews/: the preview handler and the libvips health check."""

from __future__ import annotations

from urllib.parse import quote

import pyvips
from aiohttp import web

from proxy.cache import Meta
from proxy.previews.formats import CONTENT_TYPES
from proxy.previews.health import libvips_problem
from proxy.previews.service import Preview, PreviewService
from proxy.web.delivery import respond
from proxy.web.services import Services

PREFIX = "/previews/"
PREVIEWS = web.AppKey("previews", PreviewService)
_EXTENSIONS = {ctype: fmt.replace("jpeg", "jpg") for fmt, ctype in CONTENT_TYPES.items()}


def content_disposition(preview: Preview, meta: Meta) -> str | None:
    options = preview.options
    if options.filename is None and not options.return_attachment:
        return None
    name = options.filename or preview.source.key.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image"
    extension = _EXTENSIONS.get(meta.content_type)
    if extension and not name.lower().endswith("." + extension):
        name = f"{name}.{extension}"
    kind = "attachment" if options.return_attachment else "inline"
    fallback = name.encode("ascii", "replace").decode().replace('"', "_").replace("\\", "_")
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


async def preview(request: web.Request) -> web.StreamResponse:
    service = request.app[PREVIEWS]
    raw_path = request.rel_url.raw_path[len(PREFIX) :]
    wanted = service.resolve(
        raw_path, request.rel_url.raw_query_string, request.headers.get("Accept", "")
    )
    result = await service.get(wanted)
    async with result:
        headers: dict[str, str] = {}
        if wanted.choice.vary_accept:
            headers["Vary"] = "Accept"
        disposition = content_disposition(wanted, result.meta)
        if disposition:
            headers["Content-Disposition"] = disposition
        return await respond(
            request, result, cache_control=service.svc.settings.cache_control, extra_headers=headers
        )


def setup(app: web.Application, svc: Services) -> None:
    """Register the preview routes and their services on the app."""
    # Every render reads a different file; libvips's operation cache would only pin them.
    pyvips.cache_set_max(0)
    service = PreviewService(svc)
    app[PREVIEWS] = service
    svc.extras.setdefault("health_checks", {})["libvips"] = libvips_problem
    app.router.add_get(PREFIX + "{tail:.*}", preview)
