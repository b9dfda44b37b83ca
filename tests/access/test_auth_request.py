"""The auth service client: what it sends, what it keeps, and that it fails closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from proxy.access.auth_request import AuthService, Question
from proxy.access.refusals import AuthDeniedForbidden, AuthDeniedUnauthorized, AuthUnavailable
from tests.access.auth_service import AuthService as Service
from tests.server_process import free_port


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    running = await Service().start()
    yield running
    await running.close()


def ask(uri: str = "/b/k.jpg", cookie: str | None = "session=good", **kw: str) -> Question:
    return Question(kw.get("method", "GET"), uri, cookie, kw.get("authorization"))


async def client_for(url: str, **kw: object) -> AuthService:
    settings: dict[str, object] = {"ttl": 30.0, "scope": "url", "timeout": 2.0, **kw}
    client = AuthService(url, **settings)  # type: ignore[arg-type]
    await client.start()
    return client


async def test_it_sends_the_credentials_and_the_original_request(service):
    client = await client_for(service.url)
    try:
        await client.ask(ask("/b/k.jpg?x=1", "session=good; other=1", authorization="Basic eDp5"))
    finally:
        await client.close()
    (headers,) = service.asked
    assert headers["X-Original-URI"] == "/b/k.jpg?x=1"
    assert headers["X-Original-Method"] == "GET"
    assert headers["Cookie"] == "session=good; other=1"
    assert headers["Authorization"] == "Basic eDp5"


async def test_the_authorization_header_stays_home_when_it_is_the_proxys_bearer(service):
    client = await client_for(service.url, forward_authorization=False)
    try:
        await client.ask(ask(authorization="Bearer the-proxys-own-secret"))
    finally:
        await client.close()
    assert "Authorization" not in service.asked[0]


async def test_a_401_is_passed_on_with_the_services_challenge_and_a_403_as_such(service):
    client = await client_for(service.url)
    try:
        with pytest.raises(AuthDeniedUnauthorized) as unauthorized:
            await client.ask(ask(cookie=None))
        assert unauthorized.value.headers["WWW-Authenticate"] == 'Cookie realm="app"'
        with pytest.raises(AuthDeniedForbidden):
            await client.ask(ask(cookie="session=bad"))
    finally:
        await client.close()


async def test_answers_are_kept_per_credentials_and_url_for_the_ttl(service):
    now = [0.0]
    client = await client_for(service.url, clock=lambda: now[0])
    try:
        for _ in range(3):
            await client.ask(ask("/b/1.jpg"))
            with pytest.raises(AuthDeniedForbidden):
                await client.ask(ask("/b/1.jpg", "session=bad"))  # denials are kept too
        assert len(service.asked) == 2
        await client.ask(ask("/b/2.jpg"))  # another URL: asked again
        await client.ask(ask("/b/1.jpg", method="HEAD"))  # another method too
        assert len(service.asked) == 4
        now[0] = 31.0
        await client.ask(ask("/b/1.jpg"))  # past the ttl
        assert len(service.asked) == 5
    finally:
        await client.close()


async def test_with_credentials_scope_one_answer_covers_every_url(service):
    client = await client_for(service.url, scope="credentials")
    try:
        for number in range(50):
            await client.ask(ask(f"/b/{number}.jpg"))
        await client.ask(ask("/b/1.jpg", "session=other"))  # other credentials: a call
    except AuthDeniedForbidden:
        pass
    finally:
        await client.close()
    assert len(service.asked) == 2


async def test_concurrent_questions_share_one_call(service):
    service.gate = asyncio.Event()
    client = await client_for(service.url)
    try:
        waiting = [asyncio.create_task(client.ask(ask())) for _ in range(50)]
        await service.questioned.wait()
        service.gate.set()
        await asyncio.gather(*waiting)
    finally:
        await client.close()
    assert len(service.asked) == 1


async def test_a_waiter_that_leaves_does_not_cancel_the_others_answer(service):
    service.gate = asyncio.Event()
    client = await client_for(service.url)
    try:
        leaving = asyncio.create_task(client.ask(ask()))
        staying = asyncio.create_task(client.ask(ask()))
        await service.questioned.wait()
        leaving.cancel()
        service.gate.set()
        await staying
    finally:
        await client.close()
    assert len(service.asked) == 1


@pytest.mark.parametrize("status", [200, 204])
async def test_any_2xx_allows(service, status):
    service.answer_with = status
    client = await client_for(service.url)
    try:
        await client.ask(ask(cookie=None))
    finally:
        await client.close()


@pytest.mark.parametrize("status", [301, 302, 404, 500, 502])
async def test_anything_else_fails_closed_and_is_not_kept(service, status):
    service.answer_with = status
    client = await client_for(service.url)
    try:
        for _ in range(2):
            with pytest.raises(AuthUnavailable) as failed:
                await client.ask(ask())
            assert failed.value.status == 503 and failed.value.headers["Retry-After"]
    finally:
        await client.close()
    assert len(service.asked) == 2  # a failure is never remembered


async def test_a_slow_service_is_a_503_at_the_timeout(service):
    service.gate = asyncio.Event()  # never set: the service never answers
    client = await client_for(service.url, timeout=0.2)
    try:
        with pytest.raises(AuthUnavailable, match="Timeout"):
            await client.ask(ask())
    finally:
        await client.close()
        service.gate.set()


async def test_a_service_that_is_down_is_a_503_that_names_no_credentials():
    client = await client_for(f"http://127.0.0.1:{free_port()}/check")
    try:
        with pytest.raises(AuthUnavailable) as failed:
            await client.ask(ask(cookie="session=secret-value", authorization="Basic c2VjcmV0"))
    finally:
        await client.close()
    assert "secret" not in str(failed.value) and "c2VjcmV0" not in str(failed.value)
