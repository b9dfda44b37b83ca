"""What the kernel did with what a connection sent: bytes the client acknowledged, bytes queued.

Both come from the socket itself (Linux: TCP_INFO's `tcpi_bytes_acked`, Linux 4.1 and later,
and the SIOCOUTQ queue length), because asyncio's sendfile says nothing of a transfer that
fails half-way, and a client that stops reading is only visible in the kernel: its receive
window closes, nothing more is acknowledged, and the send queue stays full.
"""

from __future__ import annotations

import fcntl
import socket
import struct
import sys
import termios
from typing import Any, Protocol

_TCP_INFO_SIZE = 256
_BYTES_ACKED = slice(120, 128)  # struct tcp_info: __u64 tcpi_bytes_acked


class _Socket(Protocol):
    def fileno(self) -> int: ...
    def getsockopt(self, level: int, option: int, size: int, /) -> bytes: ...
    def setsockopt(self, level: int, option: int, value: bytes, /) -> None: ...
    def shutdown(self, how: int, /) -> None: ...


class Progress:
    __slots__ = ("acked", "queued")

    def __init__(self, acked: int, queued: int) -> None:
        self.acked = acked  # bytes the client acknowledged, since the connection opened
        self.queued = queued  # bytes the kernel holds that the client has not acknowledged

    @property
    def taken(self) -> int:
        """Every byte the kernel accepted from us on this connection (nginx's `bytes_sent`)."""
        return self.acked + self.queued


def progress(sock: _Socket | None) -> Progress | None:
    """The socket's counts, or None where the kernel does not give them (not TCP, not Linux)."""
    if sock is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCP_INFO_SIZE)
        if len(info) < _BYTES_ACKED.stop:
            return None
        queued = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    except (OSError, AttributeError, ValueError):
        return None
    return Progress(int.from_bytes(info[_BYTES_ACKED], sys.byteorder), queued)


def socket_of(transport: Any) -> _Socket | None:
    if transport is None:
        return None
    sock: _Socket | None = transport.get_extra_info("socket")
    return sock


def reset(transport: Any) -> None:
    """End a connection whose client takes nothing, now, with a reset.

    Not `transport.abort()`: mid-sendfile, asyncio 3.11 then fails in its own connection_lost
    (it sets an exception on a waiter already done) and leaves the transfer hanging; and a
    plain close keeps the unsent bytes queued, with the client's connection open, for as
    long as the kernel retries. Shut down with a zero linger instead: whatever is writing
    gets EPIPE at once and closes the transport itself, and the close sends a reset.
    """
    sock = socket_of(transport)
    if sock is None:
        transport.abort()
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        transport.abort()
