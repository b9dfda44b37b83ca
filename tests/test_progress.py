"""The progress bar: what one line says, on a terminal and in a log."""

from __future__ import annotations

import io

from proxy.progress import Progress, human_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_counts_objects_bytes_rate_and_eta():
    clock = Clock()
    progress = Progress(4, 4 * 1024 * 1024, label="copying", stream=io.StringIO(), clock=clock)
    clock.now += 2
    progress.advance(1, 1024 * 1024)
    line = progress.line()
    assert line.startswith("copying [#####...............] 1/4 objects")
    assert "1.0 MiB/4.0 MiB" in line
    assert "512.0 KiB/s" in line
    assert line.endswith("ETA 0:06")


def test_log_output_is_throttled_lines_and_a_final_line():
    clock = Clock()
    out = io.StringIO()
    progress = Progress(3, 30, stream=out, clock=clock, interval=10)
    progress.advance(1, 10)
    progress.advance(1, 10)  # within the interval: not drawn
    clock.now += 11
    progress.advance(1, 10)
    progress.finish()
    lines = out.getvalue().splitlines()
    assert [line.split("]")[1].split("objects")[0].strip() for line in lines] == [
        "1/3",
        "3/3",
        "3/3",
    ]
    assert lines[-1].endswith("ETA 0:00")


def test_without_byte_total_progress_counts_objects():
    clock = Clock()
    progress = Progress(4, 0, label="warm", stream=io.StringIO(), clock=clock)
    clock.now += 3
    progress.advance(1, 2048)
    line = progress.line()
    assert line.startswith("warm [#####...............] 1/4 objects  2.0 KiB  ")
    assert line.endswith("ETA 0:09")


def test_terminal_redraws_in_place():
    out = Terminal()
    progress = Progress(1, 0, stream=out, clock=Clock())
    progress.advance(1, 0)
    progress.finish()
    text = out.getvalue()
    assert text.startswith("\r\x1b[K[####################] 1/1 objects")
    assert text.endswith("\n") and text.count("\n") == 1


def test_durations():
    assert human_duration(59.6) == "1:00"
    assert human_duration(3725) == "1:02:05"
