"""Progress of the long commands (`migrate`, `cache warm`) on stderr, drawn by tqdm.

On a terminal tqdm redraws one line in place. In a log (stderr is a file or a pipe: Docker,
systemd, CI) a line redrawn with carriage returns is one endless line, so there every update
is a line of its own, at most one per LOG_INTERVAL, and the final state is printed once.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from tqdm import tqdm

TERMINAL_INTERVAL = 0.2
LOG_INTERVAL = 10.0


class LogLines(tqdm):  # type: ignore[type-arg]  # tqdm is generic over its iterable; we never iterate one
    """tqdm's meter as whole lines, each state at most once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._shown: tuple[float, str] | None = None
        super().__init__(*args, **kwargs)

    def display(self, msg: str | None = None, pos: int | None = None) -> None:
        # tqdm's documented hook for other front ends. A line is ended by the next one, or by
        # the newline tqdm writes on close: so the final state, if already shown, is not
        # repeated and no empty line follows it.
        state = (self.n, str(self.postfix or ""))
        if state == self._shown:
            return
        separator = "" if self._shown is None else "\n"
        self._shown = state
        self.fp.write(separator + str(self))
        self.fp.flush()


def progress_bar(
    total: int, *, desc: str, unit: str, stream: TextIO | None = None, **options: Any
) -> tqdm[Any]:
    """A tqdm bar for `stream` (stderr): redrawn on a terminal, whole lines in a log."""
    stream = stream if stream is not None else sys.stderr
    terminal = bool(getattr(stream, "isatty", lambda: False)())
    kind: type[tqdm[Any]] = tqdm if terminal else LogLines
    settings: dict[str, Any] = {
        "mininterval": TERMINAL_INTERVAL if terminal else LOG_INTERVAL,
        # In a log the bar is only decoration: plain characters, a fixed width.
        "ascii": not terminal,
        "dynamic_ncols": terminal,
    }
    return kind(total=total, desc=desc, unit=unit, file=stream, **{**settings, **options})
