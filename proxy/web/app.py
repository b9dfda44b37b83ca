"""The aiohttp application for one server process, over the services it is handed."""

from __future__ import annotations

import weakref

from aiohttp import web

from proxy.services import Services
from proxy.web.access_log import AccessLog
from proxy.web.deadline import DEADLINES, Deadlines
from proxy.web.drain import TRANSPORTS
from proxy.web.headers import protect
from proxy.web.loop_lag import LoopLag
from proxy.web.middleware import Observer, make_middleware
from proxy.web.routes import Routes

SERVICES = web.AppKey("services", Services)
ACCESS_LOG = web.AppKey("access_log", AccessLog)
# Names the node that answered, so an operator can see a cluster's routing from any client.
SERVED_BY = "X-Served-By"


def create_app(services: Services) -> web.Application:
    settings = services.settings
    deadlines = Deadlines(settings.request_timeout)
    access_log = AccessLog()
    observe = Observer(access_log if settings.access_log else None)
    app = web.Application(
        middlewares=[make_middleware(deadlines, observe)],
        client_max_size=64 * 1024,
    )
    app[SERVICES] = services
    app[ACCESS_LOG] = access_log
    app[DEADLINES] = deadlines
    app[TRANSPORTS] = weakref.WeakSet()
    Routes(services).add_to(app.router)

    async def every_answer(request: web.Request, response: web.StreamResponse) -> None:
        # A signal rather than the middleware: it also reaches streamed, error and 304 answers.
        response.headers[SERVED_BY] = settings.node_name
        protect(response.headers)

    app.on_response_prepare.append(every_answer)

    lag = LoopLag()

    async def startup(app: web.Application) -> None:
        lag.start()
        await services.start()

    async def cleanup(app: web.Application) -> None:
        access_log.close()
        await lag.close()
        await deadlines.close()
        await services.close()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    return app
