"""The admin API, only where ADMIN_TOKEN is set: purges, and the store's change events.

POST /admin/purge/<bucket>/<key>        one original and everything made from it
POST /admin/purge?prefix=<bucket/...>   every original under a prefix (all=true for all)
POST /admin/events                      S3/MinIO and Azure Event Grid notifications
OPTIONS /admin/events                   the CloudEvents webhook handshake

Each needs `Authorization: Bearer <ADMIN_TOKEN>` (the handshake excepted: it changes and
tells nothing, and Event Grid sends it before any delivery setting applies).
"""

from __future__ import annotations

from aiohttp import web

from proxy.access.bearer import Bearer
from proxy.errors import BadRequest, PayloadTooLarge
from proxy.invalidation import Handshake, Invalidation, read_events
from proxy.settings import CACHE_NAMES
from proxy.web.middleware import Handler, Middleware
from proxy.web.routes import split_object_path

ADMIN = "/admin/"
# Event batches are small (Event Grid: at most 1 MB per batch); anything larger is not one.
BODY_LIMIT = 1 << 20
NOT_STORED = {"Cache-Control": "no-store"}


class AdminRoutes:
    def __init__(self, invalidation: Invalidation, token: str) -> None:
        self.invalidation = invalidation
        self.bearer = Bearer(token)

    def add_to(self, router: web.UrlDispatcher, middleware: Middleware) -> None:
        wrap = middleware.wrap
        router.add_post(ADMIN + "purge", wrap("admin", self._authorised(self.purge_prefix)))
        router.add_post(ADMIN + "purge/{tail:.+}", wrap("admin", self._authorised(self.purge)))
        router.add_post(ADMIN + "events", wrap("admin", self._authorised(self.events)))
        router.add_route("OPTIONS", ADMIN + "events", wrap("admin", self.handshake))

    def _authorised(self, handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            self.bearer.check(request.headers.get("Authorization"))
            return await handler(request)

        return checked

    async def purge(self, request: web.Request) -> web.Response:
        raw = request.rel_url.raw_path[len(ADMIN + "purge") :]
        bucket, key = split_object_path(raw)
        purged = await self.invalidation.purge_object(bucket, key, "api")
        return _json({"purged": purged, "object": f"{bucket}/{key}"})

    async def purge_prefix(self, request: web.Request) -> web.Response:
        if "prefix" not in request.query:
            raise BadRequest("name what to purge: /admin/purge/<bucket>/<key> or ?prefix=")
        prefix = request.query["prefix"]
        everything = request.query.get("all", "").lower() in ("1", "true", "yes", "on")
        only = request.query.get("cache") or None
        if only is not None and only not in CACHE_NAMES:
            raise BadRequest(f"cache is one of {', '.join(CACHE_NAMES)}")
        # `python -m proxy cache purge --nodes` says it is the command line, for the metric.
        origin = "cli" if request.headers.get("X-Purge-Origin") == "cli" else "api"
        purged = await self.invalidation.purge_prefix(
            prefix, origin, everything=everything, only=only
        )
        return _json({"purged": purged, "prefix": prefix.lstrip("/")})

    async def events(self, request: web.Request) -> web.Response:
        found = read_events(await _body(request))
        if isinstance(found, Handshake):
            return _json({"validationResponse": found.code})
        purged, unserved = await self.invalidation.apply(found.changes)
        return _json(
            {"changes": len(found.changes), "purged": purged, "ignored": found.ignored + unserved}
        )

    async def handshake(self, request: web.Request) -> web.Response:
        origin = request.headers.get("WebHook-Request-Origin")
        if not origin:
            raise BadRequest("OPTIONS here is the CloudEvents webhook handshake only")
        return web.Response(
            headers={**NOT_STORED, "WebHook-Allowed-Origin": origin, "WebHook-Allowed-Rate": "*"}
        )


async def _body(request: web.Request) -> bytes:
    if (request.content_length or 0) > BODY_LIMIT:
        raise PayloadTooLarge("event body too large")
    body = await request.content.read(BODY_LIMIT + 1)
    if len(body) > BODY_LIMIT:
        raise PayloadTooLarge("event body too large")
    return body


def _json(document: dict[str, object]) -> web.Response:
    return web.json_response(document, headers=NOT_STORED)
