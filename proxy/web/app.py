"""The aiohttp application: routes and life cycle."""

from __future__ import annotations

import weakref

from aiohttp import web

from proxy.converter.routes import setup as setup_converter
from proxy.previews.routes import setup as setup_previews
from proxy.settings import Settings
from proxy.storage import Storage
from proxy.web.deadline import DEADLINES, Deadlines
from proxy.web.drain import TRANSPORTS
from proxy.web.middleware import make_middlewares
from proxy.web.originals import original
from proxy.web.service_routes import HEALTH, HealthCheck, health, metrics_endpoint
from proxy.web.services import SERVICES, Services


async def _not_allowed(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMethodNotAllowed(request.method, ["GET", "HEAD"])


def create_app(settings: Settings, storage: Storage | None = None) -> web.Application:
    app = web.Application(
        middlewares=make_middlewares(settings.request_timeout, settings.access_log),
        client_max_size=64 * 1024,
    )
    svc = Services.build(settings, storage)
    app[SERVICES] = svc
    app[HEALTH] = HealthCheck(svc)
    deadlines = app[DEADLINES] = Deadlines(settings.request_timeout)
    app[TRANSPORTS] = weakref.WeakSet()

    app.router.add_get("/health", health, allow_head=True)
    app.router.add_get("/metrics", metrics_endpoint, allow_head=False)
    setup_converter(app, svc)
    setup_previews(app, svc)
    app.router.add_route("GET", "/{tail:.*}", original)
    app.router.add_route("HEAD", "/{tail:.*}", original)
    app.router.add_route("*", "/{tail:.*}", _not_allowed)

    async def startup(app: web.Application) -> None:
        await svc.start()

    async def cleanup(app: web.Application) -> None:
        await deadlines.close()
        await svc.close()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    return app
