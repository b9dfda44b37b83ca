"""Asking an auth service before serving, as nginx's `auth_request` does.

The service is one URL the operator configured (never one from a request). It gets the
request's `Cookie` and `Authorization` and the original URI and method in `X-Original-URI`
and `X-Original-Method`, and answers 2xx (allow), 401 or 403 (refuse; passed on). Anything
else, a failure or a slow answer is a 503 with `Retry-After`: the proxy fails closed.

Answers are kept for `ttl` seconds per credentials and scope (the URL, or every URL asked
with the same credentials), so a page of thumbnails costs one call per scope, not one per
image; concurrent questions with the same key share one call. Only digests of credentials
are kept, in a bounded memory of this process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp

from proxy import metrics
from proxy.access.refusals import AuthDeniedForbidden, AuthDeniedUnauthorized, AuthUnavailable

log = logging.getLogger("proxy.access")

REMEMBERED = 65536  # answers kept; each is a digest and a few fields
BODY_READ = 64 * 1024  # what is read of an answer's body, so its connection can be reused
SCOPES = ("url", "credentials")


@dataclass(frozen=True)
class Question:
    method: str
    uri: str  # the path and query as the client sent them
    cookie: str | None
    authorization: str | None


@dataclass(frozen=True)
class Answer:
    status: int  # 200 (any 2xx), 401 or 403
    challenge: str | None  # the service's WWW-Authenticate, passed on with a 401
    until: float

    def apply(self) -> None:
        if self.status == 401:
            raise AuthDeniedUnauthorized(self.challenge)
        if self.status == 403:
            raise AuthDeniedForbidden()


class AuthService:
    def __init__(
        self,
        url: str,
        *,
        ttl: float,
        scope: str,
        timeout: float,
        forward_authorization: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if scope not in SCOPES:
            raise ValueError(f"scope {scope!r} is not one of {SCOPES}")
        self.url = url
        self.ttl = ttl
        self.scope = scope
        self.timeout = timeout
        # With AUTH_BEARER_TOKEN the Authorization header is the proxy's own secret.
        self.forward_authorization = forward_authorization
        self.clock = clock
        self._answers: OrderedDict[bytes, Answer] = OrderedDict()
        self._asking: dict[bytes, asyncio.Future[Answer]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            cookie_jar=aiohttp.DummyCookieJar(),  # nobody's cookies are kept between calls
            auto_decompress=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def ask(self, question: Question) -> None:
        """Return when the service allows `question`; raise its refusal, or a 503."""
        key = self._key(question)
        answer = self._answers.get(key)
        if answer is None or answer.until <= self.clock():
            answer = await self._shared_call(key, question)
        answer.apply()

    def _key(self, question: Question) -> bytes:
        authorization = question.authorization if self.forward_authorization else None
        scope = question.uri if self.scope == "url" else ""
        parts = (question.method, question.cookie or "", authorization or "", scope)
        return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).digest()

    async def _shared_call(self, key: bytes, question: Question) -> Answer:
        pending = self._asking.get(key)
        if pending is None:
            # A task of its own: a client that leaves does not cancel the others' answer.
            pending = asyncio.ensure_future(self._call(question))
            self._asking[key] = pending
            pending.add_done_callback(lambda _: self._remember(key, pending))
        return await asyncio.shield(pending)

    def _remember(self, key: bytes, done: asyncio.Future[Answer]) -> None:
        if self._asking.get(key) is done:
            del self._asking[key]
        if done.cancelled() or done.exception() is not None or self.ttl <= 0:
            return  # failures are never kept: the next request asks again
        self._answers[key] = done.result()
        self._answers.move_to_end(key)
        while len(self._answers) > REMEMBERED:
            self._answers.popitem(last=False)

    async def _call(self, question: Question) -> Answer:
        assert self._session is not None, "AuthService.start() was not called"
        headers = {"X-Original-URI": question.uri, "X-Original-Method": question.method}
        if question.cookie is not None:
            headers["Cookie"] = question.cookie
        if question.authorization is not None and self.forward_authorization:
            headers["Authorization"] = question.authorization
        try:
            async with self._session.get(self.url, headers=headers, allow_redirects=False) as got:
                await got.content.read(BODY_READ)
                status, challenge = got.status, got.headers.get("WWW-Authenticate")
        except (aiohttp.ClientError, TimeoutError) as exc:
            metrics.AUTH_REQUESTS.labels("unavailable").inc()
            # The reason names the failure, never what was sent (credentials).
            raise AuthUnavailable(f"auth service failed: {type(exc).__name__}") from None
        if 200 <= status < 300:
            outcome = "allowed"
        elif status in (401, 403):
            outcome = "denied"
        else:
            metrics.AUTH_REQUESTS.labels("unavailable").inc()
            raise AuthUnavailable(f"auth service answered {status}")
        metrics.AUTH_REQUESTS.labels(outcome).inc()
        return Answer(200 if outcome == "allowed" else status, challenge, self.clock() + self.ttl)
