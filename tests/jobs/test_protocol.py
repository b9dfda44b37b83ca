"""Framing between the server and a render process: round trips, and frames refused."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from proxy.blob import Blob
from proxy.jobs.protocol import (
    INLINE_OUTPUT,
    LENGTH,
    MAX_HEADER,
    Job,
    RangeData,
    RangedSource,
    Untrusted,
    decode_header,
    header_length,
    payload_length,
    pickled,
    receive_pickle,
    send_json,
)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    yield ours, theirs
    ours.close()
    theirs.close()


async def read_message(reader: asyncio.StreamReader, limit: int) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    """What the server does with each message (RenderProcess._read), step by step."""
    raw = await reader.readexactly(LENGTH.size)
    header = decode_header(await reader.readexactly(header_length(raw)))
    length = payload_length(header, limit)
    return header, (await reader.readexactly(length) if length else b"")


async def test_messages_with_and_without_a_payload_round_trip(pair):
    ours, theirs = pair
    big = os.urandom(3 << 20)  # larger than one recv: sent and read in pieces
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    try:

        def render_process_side() -> None:  # blocking sockets, as in the render process
            send_json(theirs, {"type": "ready", "rss": 123})
            send_json(theirs, {"type": "done", "format": "png", "extra": {"w": 1}}, big)
            send_json(theirs, {"type": "log", "message": "ünïcode"})

        sending = asyncio.create_task(asyncio.to_thread(render_process_side))
        assert await read_message(reader, 0) == ({"type": "ready", "rss": 123}, b"")
        header, payload = await read_message(reader, len(big))
        assert header == {"type": "done", "format": "png", "extra": {"w": 1}, "payload": len(big)}
        assert payload == big
        assert await read_message(reader, 0) == ({"type": "log", "message": "ünïcode"}, b"")
        await sending
    finally:
        writer.close()


async def test_jobs_and_range_data_round_trip_pickled(pair, tmp_path: Path):
    ours, theirs = pair
    job = Job("preview", Blob.of_bytes(b"\xff\xd8abc"), {"w": 50}, tmp_path / "out", "b/k.jpg")
    ranged = Job("videoframe", RangedSource(10 << 30, "v.mp4"), None, tmp_path / "o", "b/v.mp4")
    data = RangeData(os.urandom(5 << 20))  # larger than the socket buffer: read while sent
    messages = [job, ranged, data, RangeData(None, "store down")]

    def render_process_side() -> list[object]:  # blocking sockets, as in the render process
        return [receive_pickle(theirs) for _ in messages]

    reading = asyncio.get_running_loop().run_in_executor(None, render_process_side)
    _, writer = await asyncio.open_unix_connection(sock=ours)
    try:
        for message in messages:
            writer.write(pickled(message))
            await writer.drain()
        assert await reading == messages
    finally:
        writer.close()


def test_a_frame_cut_short_is_the_end_not_a_message(pair):
    ours, theirs = pair
    frame = pickled(RangeData(b"x" * 1000))
    ours.sendall(frame[: len(frame) // 2])
    ours.close()  # the server went away mid-frame
    with pytest.raises(EOFError):
        receive_pickle(theirs)


async def test_a_render_process_that_stops_mid_frame_is_seen_as_gone(pair):
    ours, theirs = pair
    reader, writer = await asyncio.open_unix_connection(sock=ours)
    try:
        encoded = json.dumps({"type": "done", "payload": 100}).encode()
        theirs.sendall(LENGTH.pack(len(encoded)) + encoded + b"only part of it")
        theirs.close()
        with pytest.raises(asyncio.IncompleteReadError):
            await read_message(reader, INLINE_OUTPUT)
    finally:
        writer.close()


def test_headers_past_the_limit_are_refused_before_they_are_read():
    assert header_length(LENGTH.pack(MAX_HEADER)) == MAX_HEADER
    with pytest.raises(Untrusted, match=f"a header of {MAX_HEADER + 1} bytes"):
        header_length(LENGTH.pack(MAX_HEADER + 1))
    with pytest.raises(Untrusted):
        header_length(LENGTH.pack(2**32 - 1))


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\x80not json", "not JSON"),
        (b"[1, 2]", "without a type"),
        (b'{"rss": 1}', "without a type"),
        (b'{"type": 7}', "without a type"),
        (b'{"type": "done"', "not JSON"),  # a truncated header
    ],
)
def test_headers_that_are_not_messages_are_refused(raw, why):
    with pytest.raises(Untrusted, match=why):
        decode_header(raw)


@pytest.mark.parametrize("payload", [-1, INLINE_OUTPUT + 1, "12", 1.5, None])
def test_payloads_past_the_limit_or_not_a_length_are_refused(payload):
    with pytest.raises(Untrusted, match="a payload of"):
        payload_length({"type": "done", "payload": payload}, INLINE_OUTPUT)


def test_payload_lengths_within_the_limit():
    assert payload_length({"type": "done"}, INLINE_OUTPUT) == 0
    assert (
        payload_length({"type": "done", "payload": INLINE_OUTPUT}, INLINE_OUTPUT) == INLINE_OUTPUT
    )
    with pytest.raises(Untrusted):  # a message that may carry nothing carries nothing
        payload_length({"type": "ready", "payload": 1}, 0)
