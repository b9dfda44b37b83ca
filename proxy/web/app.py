"""The aiohttp application: routes, each wrapped in the one middleware, and their lifecycle."""

from __future__ import annotations

from aiohttp import web

from proxy import metrics
from proxy.services import Services
from proxy.web.access_log import AccessLog
from proxy.web.admin_routes import AdminRoutes
from proxy.web.cors import CrossOrigin
from proxy.web.deadline import DEADLINES, Deadlines
from proxy.web.delivery import Delivery
from proxy.web.headers import Stamp
from proxy.web.loop_lag import LoopLag
from proxy.web.middleware import Middleware
from proxy.web.routes import Routes
from proxy.web.tally import RequestTally

SERVICES = web.AppKey("services", Services)
ACCESS_LOG = web.AppKey("access_log", AccessLog)
TALLY = web.AppKey("tally", RequestTally)


def create_app(services: Services) -> web.Application:
    settings = services.settings
    deadlines = Deadlines(settings.request_timeout)
    access_log = AccessLog()
    tally = RequestTally(metrics.HTTP_REQUESTS, metrics.HTTP_DURATION, metrics.HTTP_IN_FLIGHT)
    stamp = Stamp(settings.node_name)
    middleware = Middleware(deadlines, tally, access_log if settings.access_log else None, stamp)
    app = web.Application(client_max_size=64 * 1024)
    app[SERVICES] = services
    app[ACCESS_LOG] = access_log
    app[TALLY] = tally
    app[DEADLINES] = deadlines
    # Where who asks decides what is served, no cache in front may share an answer.
    access = settings.access
    cache_control = access.cache_control if access.per_client else settings.cache_control
    if settings.admin_token:  # without a token, the admin API does not exist
        AdminRoutes(services.invalidation, settings.admin_token).add_to(app.router, middleware)
    cross_origin = CrossOrigin(settings.cors_allow_origin, settings.resource_policy)
    delivery = Delivery(cache_control, stamp)
    Routes(services, delivery, tally, cross_origin).add_to(app.router, middleware)

    lag = LoopLag()

    async def startup(app: web.Application) -> None:
        lag.start()
        await services.start()

    async def cleanup(app: web.Application) -> None:
        tally.publish()
        access_log.close()
        await lag.close()
        await deadlines.close()
        await services.close()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    return app
