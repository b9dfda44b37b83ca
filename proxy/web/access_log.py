"""The access log: one JSON line per request, formatted and written in batches.

Like nginx's `access_log ... buffer= flush=`: a request only appends its fields to a
buffer; the buffer is formatted when it is large or a moment old, and written to standard
output in one go, by the event loop itself where that cannot stall it: one write of a
whole batch costs less than handing it to a thread (every hand-off of the interpreter lock
between two busy threads costs more than the write).
- Into a regular file, as nginx does: the kernel keeps each write whole in the file, and a
  write to the page cache does not wait for a reader.
- Into a pipe (a container's stdout): through a non-blocking descriptor of the loop's own
  on the same pipe, in writes of whole lines of at most PIPE_BUF bytes, which the kernel
  keeps whole, so the lines of several workers sharing one pipe never interleave mid-line.
  A write that would wait for a slow reader goes, with everything after it, to a writer
  thread that waits on the original, blocking descriptor; the loop writes again once the
  thread has caught up, so lines stay in order.
- Into anything else (a terminal, a socket): the writer thread, in the same pieces.
"""

from __future__ import annotations

import asyncio
import functools
import os
import queue
import stat
import threading
import time
from json.encoder import encode_basestring_ascii as quoted

FLUSH_AFTER = 0.2  # seconds a line may wait in the buffer
FLUSH_LINES = 256  # formatted together: about half a millisecond of the loop's time
PIPE_BUF = 4096

Record = tuple[float, str, str, int, int, float, str, "str | None", "str | None", bool]


class AccessLog:
    def __init__(self, fd: int = 1) -> None:
        self._fd = fd
        self._records: list[Record] = []
        self._timer: asyncio.TimerHandle | None = None
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._to_file = _is_regular_file(fd)
        self._pipe: int | None = None  # opened at the first write: many logs never write
        self._looked_for_pipe = self._to_file
        # Batches handed to the thread, and those it wrote: each count has one writer.
        self._handed = 0
        self._written = 0

    def record(
        self,
        method: str,
        path: str,
        status: int,
        sent: int,
        seconds: float,
        cache: str,
        remote: str | None,
        refused: str | None = None,
        left: bool = False,
    ) -> None:
        # Only kept here; lines are made FLUSH_LINES at a time, in one tight loop, where
        # formatting one costs a third of what it costs between a request's other work.
        records = self._records
        records.append(
            (time.time(), method, path, status, sent, seconds, cache, remote, refused, left)
        )
        if len(records) >= FLUSH_LINES:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_AFTER, self.flush)

    def flush(self) -> None:
        """Format what is buffered and write it, or hand it to the writer thread."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._records:
            return
        records, self._records = self._records, []
        lines = []
        for when, method, path, status, sent, seconds, cache, remote, refused, left in records:
            head, tail = _parts(method, path, status, sent, cache, remote, refused, left)
            lines.append(f"{_timestamp(when)}{head}{seconds * 1000:.2f}{tail}")
        data = "".join(lines).encode()
        if self._to_file:
            _write_all(self._fd, data)
            return
        if not self._looked_for_pipe:
            self._looked_for_pipe = True
            self._pipe = _nonblocking_twin(self._fd)
        if self._pipe is not None and self._written == self._handed:
            data = _write_without_waiting(self._pipe, data)
            if not data:
                return
        if self._thread is None:
            self._thread = threading.Thread(target=self._write, name="access-log", daemon=True)
            self._thread.start()
        self._handed += 1
        self._queue.put(data)

    def close(self) -> None:
        """Write out everything, and wait until it is written."""
        self.flush()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None

    def _write(self) -> None:
        while (data := self._queue.get()) is not None:
            for piece in _pieces(data):
                try:
                    os.write(self._fd, piece)
                except OSError:
                    break  # a closed log must not take the server down
            self._written += 1


def _is_regular_file(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False


def _nonblocking_twin(fd: int) -> int | None:
    """A non-blocking descriptor of our own on the pipe `fd` writes to, or None.

    Opened anew, not duplicated: O_NONBLOCK belongs to an open file description, and the
    one behind `fd` is shared with the other workers and whatever else writes to it.
    """
    try:
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return None
        return os.open(f"/proc/self/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None


def _write_without_waiting(fd: int, data: bytes) -> bytes:
    """Write whole pieces while the pipe has room; what is left (b"" when nothing)."""
    done = 0
    for piece in _pieces(data):
        try:
            written = os.write(fd, piece)
        except BlockingIOError:
            break
        except OSError:
            return b""  # a closed log must not take the server down
        done += written
        if written < len(piece):  # only a line longer than PIPE_BUF is ever cut
            break
    return data[done:]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        pass  # a full disk or a closed log must not take the server down


@functools.lru_cache(maxsize=1024)  # URLs are up to 8 KiB: bounded memory
def _parts(
    method: str,
    path: str,
    status: int,
    sent: int,
    cache: str,
    remote: str | None,
    refused: str | None,
    left: bool,
) -> tuple[str, str]:
    """A line around the fields that change every time: a hot URL's lines differ only in
    their time and milliseconds, and quoting the rest again was most of a line's cost."""
    head = f'"method":{quoted(method)},"path":{quoted(path)},"status":{status},"bytes":{sent},"ms":'
    tail = f',"cache":{quoted(cache)},"remote":{quoted(remote) if remote is not None else "null"}'
    # Only a refused request says why: which check of the access rule turned it away.
    if refused is not None:
        tail += f',"refused":{quoted(refused)}'
    # Only a client that hung up before its whole answer was written says so.
    tail += ',"client_left":true}\n' if left else "}\n"
    return head, tail


_second: tuple[int, str] = (-1, "")


def _timestamp(when: float) -> str:
    """The line's opening: `{"@timestamp":"2026-12-07T06:19:31.123Z",`, ISO 8601 in UTC with
    milliseconds (nginx's $time_iso8601, finer), under Elastic's common schema key, which
    Filebeat, Logstash and OpenSearch take as the event's time without a parsing rule. The
    part up to the second is made once a second."""
    global _second
    whole = int(when)
    if whole != _second[0]:
        _second = (whole, time.strftime('{"@timestamp":"%Y-%m-%dT%H:%M:%S', time.gmtime(whole)))
    return f'{_second[1]}.{int((when - whole) * 1000):03d}Z",'


def _pieces(data: bytes) -> list[bytes]:
    """Whole lines, at most PIPE_BUF bytes a piece (a longer line alone)."""
    pieces, start = [], 0
    while len(data) - start > PIPE_BUF:
        cut = data.rfind(b"\n", start, start + PIPE_BUF) + 1
        if cut <= start:  # one line longer than PIPE_BUF
            cut = data.index(b"\n", start) + 1
        pieces.append(data[start:cut])
        start = cut
    if start < len(data):
        pieces.append(data[start:])
    return pieces
