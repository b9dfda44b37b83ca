"""The application: its services started with it and closed with it, every route wrapped."""

from __future__ import annotations

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from proxy.errors import ServiceUnavailable
from proxy.services import build_services
from proxy.web.app import ACCESS_LOG, SERVICES, TALLY, create_app
from proxy.web.deadline import DEADLINES
from tests.jobs.helpers import image, preview_job


async def test_the_app_starts_its_services_and_closes_them(make_settings, put_file, tmp_path):
    put_file("a.txt", b"hello")
    services = build_services(make_settings(NODE_NAME="node-3"))
    app = create_app(services)
    assert app[SERVICES] is services
    assert {ACCESS_LOG, TALLY, DEADLINES} <= set(app)
    server = TestServer(app)
    await server.start_server()
    try:
        async with ClientSession() as session:
            # Every route answers through the one wrapper, errors included.
            for path in ("/abc-public/a.txt", "/health", "/nope/x", "/metrics", "/previews/x"):
                async with session.get(server.make_url(path)) as response:
                    await response.read()
                    assert response.headers["X-Served-By"] == "node-3", path
                    assert response.headers["X-Content-Type-Options"] == "nosniff", path
            async with session.get(server.make_url("/abc-public/a.txt")) as response:
                assert await response.read() == b"hello"
                assert response.headers["X-Cache-Status"] == "HIT"  # the caches were started
            render = await services.pool.run(preview_job(tmp_path, image()), timeout=30)
            assert render.format == "jpeg"  # so were the render processes
    finally:
        await server.close()
    # Closed with the app: no render process left, and the pool takes no more work.
    assert services.pool.idle_pids() == set()
    with pytest.raises(ServiceUnavailable, match="shutting down"):
        await services.pool.run(preview_job(tmp_path, image()), timeout=5)
