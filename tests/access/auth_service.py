"""A small auth service for the tests, on a real loopback port, as nginx's auth_request
setups have one: it decides by the session cookie (or a bearer the app issued) and the URI.

`session=good` may read everything, `session=thumbs` only previews, `session=bad` nothing
(403); no session is a 401 with a challenge. It records every question it is asked, can
be held (its answers wait on `gate`) and can be told to answer something else.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class AuthService:
    asked: list[dict[str, str]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    answer_with: int | None = None  # a status to answer with whatever was asked
    server: TestServer | None = None
    questioned: asyncio.Event = field(default_factory=asyncio.Event)  # set at the first question

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/check"))

    async def start(self) -> AuthService:
        app = web.Application()
        app.router.add_get("/check", self._check)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def _check(self, request: web.Request) -> web.Response:
        self.asked.append(dict(request.headers))
        self.questioned.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.answer_with is not None:
            return web.Response(status=self.answer_with, text="as told\n")
        session = request.cookies.get("session")
        uri = request.headers.get("X-Original-URI", "")
        if session == "good" or (session == "thumbs" and uri.startswith("/previews/")):
            return web.Response(text="ok\n")
        if session is None:
            challenge = {"WWW-Authenticate": 'Cookie realm="app"'}
            return web.Response(status=401, headers=challenge, text="log in\n")
        return web.Response(status=403, text="no\n")
