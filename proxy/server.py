"""Running the app: one process now; signals stop it gracefully."""

from __future__ import annotations

import logging

from aiohttp import web

from proxy.logs import setup_logging
from proxy.settings import Settings
from proxy.web.app import create_app

log = logging.getLogger("proxy.server")


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    setup_logging(settings.log_level)
    app = create_app(settings)
    log.info(
        "serving %s storage (%s) on http://%s:%d",
        settings.storage.provider,
        ",".join(settings.storage.buckets) or "no buckets",
        host,
        port,
    )
    # On SIGTERM/SIGINT aiohttp stops accepting, lets in-flight requests finish for up to
    # shutdown_timeout, then runs on_cleanup, where unfinished cache writes are discarded.
    web.run_app(
        app,
        host=host,
        port=port,
        shutdown_timeout=settings.shutdown_timeout,
        access_log=None,
        print=None,
        handle_signals=True,
    )
