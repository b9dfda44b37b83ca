"""The one access rule every route goes through before it reads anything.

In this order, cheapest first, each only when configured:
1. the bearer secret (`AUTH_BEARER_TOKEN`): 401 without it;
2. the URL's signature (`SIGNATURE_KEY`): in the path for previews, in the query for
   originals and conversions (unless `SIGNATURE_SCOPE=previews`): 403;
3. the auth service (`AUTH_REQUEST_URL`): its 401 or 403, or 503 when it fails.

A request turned away here has read neither a cache nor the store, so its answer and its
timing are the same whether the object exists or not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping

from proxy.access.auth_request import AuthService, Question
from proxy.access.bearer import Bearer
from proxy.access.signature import Pairs
from proxy.access.signed_query import QuerySignatures
from proxy.settings import AccessSettings

# Checks the signature of a still percent-encoded path and query; raises a refusal.
SignatureCheck = Callable[[str, str], None]
# What a route runs before its handler: method, raw path, raw query, request headers.
Guard = Callable[[str, str, str, Mapping[str, str]], Awaitable[None]]


class AccessRule:
    def __init__(
        self,
        settings: AccessSettings,
        pairs: Pairs,
        size: int,
        trusted: Collection[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.bearer = Bearer(settings.bearer_token) if settings.bearer_token else None
        self.query_signatures = (
            QuerySignatures(pairs, size, trusted)
            if pairs and settings.signature_scope == "all"
            else None
        )
        self.auth = (
            AuthService(
                settings.auth_request_url,
                ttl=settings.auth_request_cache,
                scope=settings.auth_request_scope,
                timeout=settings.auth_request_timeout,
                forward_authorization=self.bearer is None,
            )
            if settings.auth_request_url
            else None
        )

    @property
    def query_signature(self) -> SignatureCheck | None:
        """The check for routes signed in the query, when they must be signed."""
        return None if self.query_signatures is None else self.query_signatures.verify

    async def start(self) -> None:
        if self.auth is not None:
            await self.auth.start()

    async def close(self) -> None:
        if self.auth is not None:
            await self.auth.close()

    def guard(self, signature: SignatureCheck | None) -> Guard | None:
        """What a route runs first, or None when it has nothing to check."""
        bearer, auth = self.bearer, self.auth
        if bearer is None and signature is None and auth is None:
            return None

        async def admit(
            method: str, raw_path: str, raw_query: str, headers: Mapping[str, str]
        ) -> None:
            if bearer is not None:
                bearer.check(headers.get("Authorization"))
            if signature is not None:
                signature(raw_path, raw_query)
            if auth is not None:
                uri = raw_path + ("?" + raw_query if raw_query else "")
                cookie, authorization = headers.get("Cookie"), headers.get("Authorization")
                await auth.ask(Question(method, uri, cookie, authorization))

        return admit
