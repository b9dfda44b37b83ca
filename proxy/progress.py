"""A one-line terminal progress bar for long commands (migrate, cache warm): objects, bytes,
rate and ETA. On a terminal it redraws in place; in a log (not a TTY) it prints a line now and
then, so CI output stays readable."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from proxy.units import format_size

BAR_WIDTH = 20


def human_duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    def __init__(
        self,
        total_objects: int,
        total_bytes: int,
        *,
        label: str = "",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = None,
    ) -> None:
        self.total_objects = total_objects
        self.total_bytes = total_bytes
        self.objects = 0
        self.bytes = 0
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (0.2 if self.tty else 10.0)
        self.started = clock()
        self._last_draw: float | None = None

    def advance(self, objects: int = 1, nbytes: int = 0) -> None:
        self.objects += objects
        self.bytes += nbytes
        now = self.clock()
        if self._last_draw is None or now - self._last_draw >= self.interval:
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        elapsed = max(now - self.started, 1e-6)
        # Progress by bytes when their total is known (a copy), else by objects (a warm-up).
        if self.total_bytes:
            done = self.bytes / self.total_bytes
            sizes = f"{format_size(self.bytes)}/{format_size(self.total_bytes)}"
        else:
            done = self.objects / self.total_objects if self.total_objects else 1.0
            sizes = format_size(self.bytes)
        done = min(done, 1.0)
        if done >= 1.0:
            eta = "0:00"
        elif done > 0:
            eta = human_duration(elapsed * (1 - done) / done)
        else:
            eta = "-"
        filled = int(BAR_WIDTH * done)
        prefix = f"{self.label} " if self.label else ""
        return (
            f"{prefix}[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{self.objects}/{self.total_objects} objects  {sizes}  "
            f"{format_size(self.bytes / elapsed)}/s  ETA {eta}"
        )

    def _draw(self, now: float) -> None:
        self._last_draw = now
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line(now))
        else:
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """The final state, always shown, and the cursor left on a fresh line."""
        now = self.clock()
        if self.tty:
            self.stream.write("\r\x1b[K" + self.line(now) + "\n")
        else:
            self.stream.write(self.line(now) + "\n")
        self.stream.flush()
