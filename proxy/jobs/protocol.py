"""What the server and its render processes say to each other, over one socket pair.

Server to render process: pickled `Job`s and `RangeData` (the server is the trusted side).
Render process to server: a JSON header and, at most, one payload of raw bytes. The render
process decodes hostile files, so what it says is never unpickled, always bounded in size and
checked field by field: a decoder that was taken over cannot take over the server with it.
"""

from __future__ import annotations

import json
import pickle
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxy.blob import Blob

LENGTH = struct.Struct(">I")
MAX_HEADER = 64 * 1024
# Outputs up to this size come back in the message; larger ones in a file (`Job.output`).
INLINE_OUTPUT = 1 << 20
# Statuses a render process may answer with: the source's or the request's fault.
STATUSES = frozenset({400, 404, 413, 415, 416, 422})


@dataclass(frozen=True)
class RangedSource:
    """A source too large to cache, read by the render process in ranges through the server."""

    size: int
    name: str  # for file-type sniffing and log lines


@dataclass(frozen=True)
class Job:
    kind: str  # which job function: see proxy.jobs.child
    source: Blob | RangedSource
    args: Any  # picklable, the job function's own
    output: Path  # where an output too large for a message goes
    label: str  # what the source is, for log lines: bucket/key


@dataclass(frozen=True)
class Output:
    """What a job function returns: the encoded result and its format."""

    body: bytes
    format: str | None  # None: the source's own bytes, of a type the caller knows
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RangeData:
    data: bytes | None  # None: the read failed, and `reason` says why
    reason: str = ""


# -- the render process's side: blocking sockets --------------------------------------------


def send_json(sock: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    if payload:
        header = {**header, "payload": len(payload)}
    encoded = json.dumps(header).encode()
    sock.sendall(LENGTH.pack(len(encoded)) + encoded)
    if payload:
        sock.sendall(payload)


def receive_pickle(sock: socket.socket) -> Any:
    (length,) = LENGTH.unpack(_exactly(sock, LENGTH.size))
    return pickle.loads(_exactly(sock, length))


def _exactly(sock: socket.socket, count: int) -> bytes:
    chunks = []
    while count:
        chunk = sock.recv(min(count, 1 << 20))
        if not chunk:
            raise EOFError("the server went away")
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


# -- the server's side: asyncio streams -----------------------------------------------------


def pickled(message: object) -> bytes:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(data)) + data


class Untrusted(Exception):
    """The render process said something it may not say: it is killed."""


def decode_header(raw: bytes) -> dict[str, Any]:
    try:
        header = json.loads(raw)
    except ValueError as exc:
        raise Untrusted("a header that is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(header.get("type"), str):
        raise Untrusted("a header without a type")
    return header


def header_length(raw: bytes) -> int:
    (length,) = LENGTH.unpack(raw)
    if length > MAX_HEADER:
        raise Untrusted(f"a header of {length} bytes")
    return int(length)


def payload_length(header: dict[str, Any], limit: int) -> int:
    length = header.get("payload", 0)
    if not isinstance(length, int) or not 0 <= length <= limit:
        raise Untrusted(f"a payload of {length!r} bytes")
    return length
