"""A browser, a web app's origin and the proxy, each real: headless Chromium over the
DevTools protocol, an aiohttp server for the app's pages on `localhost` (another site than
the proxy on 127.0.0.1, as a web app would be), and the proxy app on a loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from aiohttp import web

from tests.browser.chromium import Chromium, Connection, Page


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    browser = Chromium()
    yield browser
    browser.close()


@pytest.fixture
async def page(chromium: Chromium) -> AsyncIterator[Page]:
    connection = await Connection.open(chromium.debugger)
    opened = await Page.open(connection)
    yield opened
    await opened.close()
    await connection.close()


class Site:
    """The web app's origin: pages the test writes, served with the headers it gives."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self.base = ""

    def add(
        self, path: str, body: str | bytes, content_type: str = "text/html", **headers: str
    ) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.pages[path] = (
            data,
            content_type,
            {k.replace("_", "-"): v for k, v in headers.items()},
        )
        return self.base + path

    async def handle(self, request: web.Request) -> web.Response:
        found = self.pages.get(request.path)
        if found is None:
            raise web.HTTPNotFound()
        body, content_type, headers = found
        return web.Response(body=body, content_type=content_type, headers=headers)


@pytest.fixture
async def site(aiohttp_server: Callable[..., object]) -> Site:
    pages = Site()
    app = web.Application()
    app.router.add_get("/{tail:.*}", pages.handle)
    server = await aiohttp_server(app)  # type: ignore[operator]
    pages.base = f"http://localhost:{server.port}"  # type: ignore[attr-defined]
    return pages


@pytest.fixture
def proxy(make_client, make_settings):  # type: ignore[no-untyped-def]
    """Start the proxy with these settings; its base URL."""

    async def start(**env: str) -> str:
        client = await make_client(make_settings(**env))
        return str(client.make_url("")).rstrip("/")

    return start
