"""The order of the access rule's checks: the cheapest first, the auth service last, and a
route with nothing to check runs no guard at all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from proxy.access import AccessRule
from proxy.access.refusals import AuthDeniedForbidden, BadSignature, NoBearer
from proxy.access.signed_query import sign_query
from tests.access.auth_service import AuthService

TOKEN = "a-bearer-token-0123456789"
PAIRS = ((b"k", b"s"),)


@pytest.fixture
async def auth() -> AsyncIterator[AuthService]:
    service = await AuthService().start()
    yield service
    await service.close()


def rule_for(make_settings, **env: str) -> AccessRule:  # type: ignore[no-untyped-def]
    return AccessRule(make_settings(**env).access, PAIRS, 32)


def test_nothing_configured_means_no_guard(make_settings):
    rule = AccessRule(make_settings().access, (), 32)
    assert rule.query_signature is None
    assert rule.guard(None) is None and rule.guard(rule.query_signature) is None


def test_keys_without_scope_all_leave_query_routes_unguarded(make_settings):
    assert rule_for(make_settings, SIGNATURE_SCOPE="previews").query_signature is None
    assert rule_for(make_settings).query_signature is not None


async def test_the_bearer_comes_before_the_signature(make_settings):
    rule = rule_for(make_settings, AUTH_BEARER_TOKEN=TOKEN)
    guard = rule.guard(rule.query_signature)
    assert guard is not None
    with pytest.raises(NoBearer):
        await guard("GET", "/b/k", "sig=wrong", {})
    with pytest.raises(BadSignature):
        await guard("GET", "/b/k", "sig=wrong", {"Authorization": f"Bearer {TOKEN}"})


async def test_the_auth_service_is_asked_only_once_the_signature_holds(make_settings, auth):
    rule = rule_for(make_settings, AUTH_REQUEST_URL=auth.url)
    await rule.start()
    try:
        guard = rule.guard(rule.query_signature)
        assert guard is not None
        with pytest.raises(BadSignature):
            await guard("GET", "/b/k", "sig=wrong", {"Cookie": "session=bad"})
        assert auth.asked == []
        with pytest.raises(AuthDeniedForbidden):
            await guard(
                "GET", "/b/k", sign_query("/b/k", "", b"k", b"s", 32), {"Cookie": "session=bad"}
            )
        assert len(auth.asked) == 1
        await guard(
            "GET", "/b/k", sign_query("/b/k", "", b"k", b"s", 32), {"Cookie": "session=good"}
        )
    finally:
        await rule.close()


def test_cache_control_for_admitted_answers_is_private_by_default(make_settings):
    assert make_settings().access.cache_control == "private, max-age=86400"
    shared = make_settings(CACHE_CONTROL="public, max-age=600, s-maxage=3600, immutable")
    assert shared.access.cache_control == "private, max-age=600, immutable"
    assert not make_settings().access.per_client
    assert make_settings(AUTH_BEARER_TOKEN=TOKEN).access.per_client
