"""The one place where an exception becomes an answer: a status, a short reason, a log line.

Errors of our own carry their status (`proxy.errors.ProxyError`); the few foreign ones that
can reach a handler are mapped here: aiohttp's own HTTP exceptions, and failures of the
cache's disk or index, which are the operator's to fix (503), not a bug (500).
"""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from proxy.errors import CacheUnavailable, ProxyError

LOCAL_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EACCES})


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: Mapping[str, str] = field(default_factory=dict)
    log_level: int = logging.INFO
    traceback: bool = False  # a bug: the log gets the traceback, the client one line
    refusal: str | None = None  # what the access rule turned away, and why

    def response(self) -> web.Response:
        return web.Response(status=self.status, text=self.reason + "\n", headers=self.headers)


def answer_for(exc: Exception) -> Answer:
    if isinstance(exc, ProxyError):
        level = logging.WARNING if exc.status >= 500 else logging.INFO
        return Answer(exc.status, exc.reason, exc.headers, level, refusal=exc.refusal)
    if isinstance(exc, web.HTTPException):
        headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-type"}
        return Answer(exc.status, exc.reason.lower(), headers)
    if isinstance(exc, sqlite3.Error) or (
        isinstance(exc, OSError) and exc.errno in LOCAL_DISK_ERRORS
    ):
        return Answer(503, CacheUnavailable.default_reason, log_level=logging.ERROR)
    return Answer(500, "internal error", log_level=logging.ERROR, traceback=True)
