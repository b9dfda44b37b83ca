"""How far a body got before the answer ended: what the access log says of a client that left.

A streamed or sendfile body records here the answer whose head went out and the body bytes
the connection took, so a client that hangs up half-way is logged with the status it was
sent and the bytes it was given (as nginx logs it), not as a 499 with nothing.
"""

from __future__ import annotations

from aiohttp import web


class Sent:
    __slots__ = ("body_bytes", "handed", "left", "response")

    def __init__(self, response: web.StreamResponse) -> None:
        self.response = response
        self.body_bytes = 0  # bytes of the body the kernel took (a lower bound if it left)
        self.handed = 0  # bytes of the body given to the transport
        self.left = False  # the client went away before the whole body was written


SENT = web.RequestKey("sent", Sent)


def sending(request: web.BaseRequest, response: web.StreamResponse) -> Sent:
    """Called as a body starts: from here on, an end of the request is logged from this."""
    record = request[SENT] = Sent(response)
    return record
