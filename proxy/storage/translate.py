"""Turning an SDK's exceptions into the typed errors, shared by the remote backends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from proxy.errors import ProxyError

# Returns the typed error for an SDK exception, or None for one that is a bug (re-raised).
ErrorMap = Callable[[BaseException, str], ProxyError | None]


@contextmanager
def translated(map_error: ErrorMap, what: str) -> Iterator[None]:
    try:
        yield
    except asyncio.CancelledError:
        raise
    except ProxyError:
        raise
    except Exception as exc:
        error = map_error(exc, what)
        if error is None:
            raise
        raise error from exc
