"""The routes: each turns a request into a feature call and the result into an answer.

GET|HEAD /<bucket>/<key>         originals
GET /previews/...                previews (imgproxy URLs)
GET /image-converter/...         conversions and video frames
GET /info/...                    image metadata as JSON (imgproxy's /info)
GET /health, /health/store, /metrics   for operators
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import unquote

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from proxy.cache import Body, Meta
from proxy.errors import BadRequest, NotFound
from proxy.formats import EXTENSIONS
from proxy.metrics_export import render_metrics
from proxy.previews.feature import Preview
from proxy.services import Services
from proxy.web.conditional import byte_range_request
from proxy.web.cors import CrossOrigin, merge_vary
from proxy.web.delivery import Delivery
from proxy.web.headers import content_disposition
from proxy.web.middleware import Middleware
from proxy.web.tally import RequestTally

PREVIEWS = "/previews/"
CONVERTER = "/image-converter/"
INFO = "/info/"


def split_object_path(raw_path: str) -> tuple[str, str]:
    """(bucket, key) from a still percent-encoded path; decoded exactly once."""
    bucket, _, raw_key = raw_path.lstrip("/").partition("/")
    if not bucket or not raw_key or raw_key.endswith("/"):
        raise NotFound("not found")  # no listing of the root, a bucket or a folder
    try:
        key = unquote(raw_key, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("key is not valid UTF-8") from None
    if "\x00" in key:
        raise BadRequest("NUL byte in key")
    return unquote(bucket), key


def preview_filename(preview: Preview, meta: Meta) -> str | None:
    """The file name a preview is offered under, when the URL asked for one."""
    options = preview.options
    if options.filename is None and not options.return_attachment:
        return None
    name = options.filename or preview.source.key.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "image"
    extension = EXTENSIONS.get(meta.content_type)
    if extension and not name.lower().endswith("." + extension):
        name = f"{name}.{extension}"
    return name


class Routes:
    def __init__(
        self,
        services: Services,
        delivery: Delivery,
        tally: RequestTally,
        cross_origin: CrossOrigin,
    ) -> None:
        self.services = services
        self.delivery = delivery
        self.tally = tally
        self.cross_origin = cross_origin

    def add_to(self, router: web.UrlDispatcher, middleware: Middleware) -> None:
        wrap = middleware.wrap
        access = self.services.access
        # Operators' endpoints answer anyone who reaches the port, as HAProxy's checks and
        # Prometheus do; every other route runs the access rule before anything else.
        router.add_get("/health", wrap("health", self.health), allow_head=True)
        router.add_get("/health/store", wrap("health", self.store_health), allow_head=True)
        router.add_get("/metrics", wrap("metrics", self.metrics), allow_head=False)
        cors = self.cross_origin
        signed_in_query = access.guard(access.query_signature)
        router.add_get(
            CONVERTER + "{tail:.*}",
            wrap("image_converter", self.convert, signed_in_query, cors),
        )
        previews, info = self.services.previews, self.services.info

        def preview_signature(raw_path: str, raw_query: str) -> None:
            previews.check_signature(raw_path[len(PREVIEWS) :], raw_query)

        def info_signature(raw_path: str, raw_query: str) -> None:
            info.check_signature(raw_path[len(INFO) :], raw_query)

        signed_in_path = access.guard(preview_signature)
        router.add_get(PREVIEWS + "{tail:.*}", wrap("preview", self.preview, signed_in_path, cors))
        info_route = wrap("info", self.info, access.guard(info_signature), cors)
        router.add_get(INFO + "{tail:.*}", info_route)
        original = wrap("original", self.original, signed_in_query, cors)
        router.add_route("GET", "/{tail:.*}", original)
        router.add_route("HEAD", "/{tail:.*}", original)
        # A CORS preflight carries no credentials (browsers never send them on one), so it
        # is answered before the access rule; any other OPTIONS is refused as before.
        guard = access.guard(None)

        async def options(request: web.Request) -> web.StreamResponse:
            answer = cors.preflight(request)
            if answer is not None:
                return answer
            if guard is not None:
                url = request.rel_url
                await guard(request.method, url.raw_path, url.raw_query_string, request.headers)
            return await self.not_allowed(request)

        router.add_route("OPTIONS", "/{tail:.*}", wrap("preflight", options))
        # Every other method, on any path: so that no request misses the middleware.
        router.add_route("*", "/{tail:.*}", wrap("original", self.not_allowed, guard))

    async def _send(
        self, request: web.Request, result: Body, headers: dict[str, str] | None = None
    ) -> web.StreamResponse:
        cors: Mapping[str, str] = self.cross_origin.headers(request.headers.get("Origin"))
        if headers:
            merge_vary(headers, cors)
            cors = headers
        async with result:
            return await self.delivery.respond(request, result, cors)

    async def original(self, request: web.Request) -> web.StreamResponse:
        originals = self.services.originals
        bucket, key = split_object_path(request.rel_url.raw_path)
        if not originals.has_bucket(bucket):
            raise NotFound("not found")
        if request.method == "HEAD":
            return await self._send(request, await originals.head_result(bucket, key))
        span = byte_range_request(request)
        if span is not None:
            return await self._send(request, await originals.get_range(bucket, key, *span))
        return await self._send(request, await originals.get(bucket, key))

    async def preview(self, request: web.Request) -> web.StreamResponse:
        previews = self.services.previews
        url = request.rel_url
        wanted = previews.resolve(
            url.raw_path[len(PREVIEWS) :], url.raw_query_string, request.headers.get("Accept", "")
        )
        result = await previews.get(wanted)
        headers: dict[str, str] = {}
        if wanted.choice.vary_accept:
            headers["Vary"] = "Accept"
        name = preview_filename(wanted, result.meta)
        if name is not None:
            attachment = wanted.options.return_attachment
            headers["Content-Disposition"] = content_disposition(name, attachment=attachment)
        return await self._send(request, result, headers)

    async def info(self, request: web.Request) -> web.StreamResponse:
        info = self.services.info
        url = request.rel_url
        wanted = info.resolve(url.raw_path[len(INFO) :], url.raw_query_string)
        return await self._send(request, await info.get(wanted))

    async def convert(self, request: web.Request) -> web.StreamResponse:
        converter = self.services.converter
        try:
            path = unquote(request.rel_url.raw_path[len(CONVERTER) :], errors="strict")
        except UnicodeDecodeError:
            raise BadRequest("path is not valid UTF-8") from None
        ref = converter.parse(path, request.query)
        return await self._send(request, await converter.entry(ref))

    async def health(self, request: web.Request) -> web.Response:
        report = await self.services.health.report()
        return web.json_response(report.as_json(), status=200 if report.healthy else 503)

    async def store_health(self, request: web.Request) -> web.Response:
        report = await self.services.health.store_report()
        return web.json_response(report.as_json(), status=200 if report.healthy else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        self.tally.publish()
        for cache in self.services.caches:
            cache.publish_size()
        body = await asyncio.to_thread(render_metrics)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def not_allowed(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])
