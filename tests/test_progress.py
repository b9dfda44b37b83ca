"""Progress bars (tqdm): redrawn on a terminal; in a log, whole lines and no state twice."""

from __future__ import annotations

import io

from proxy.progress import LogLines, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_state_and_the_final_state_once() -> None:
    out = io.StringIO()
    with progress_bar(3, desc="warm", unit="path", stream=out, mininterval=0) as bar:
        assert isinstance(bar, LogLines)
        for _ in range(3):
            bar.update(1)
    text = out.getvalue()
    assert "\r" not in text
    assert text.endswith("\n") and not text.endswith("\n\n")
    lines = text.splitlines()
    assert [line.split("|")[2].split()[0] for line in lines] == ["0/3", "1/3", "2/3", "3/3"]
    assert all(line.startswith("warm:") for line in lines)


def test_a_log_is_quiet_between_intervals_but_always_gets_the_end() -> None:
    out = io.StringIO()
    bar = progress_bar(
        4 << 20, desc="copying", unit="B", unit_scale=True, unit_divisor=1024, stream=out
    )
    for done in range(1, 5):
        bar.set_postfix_str(f"{done}/4 objects", refresh=False)
        bar.update(1 << 20)
    bar.close()
    lines = out.getvalue().splitlines()
    # The start, then nothing within the interval, then the final state with its count.
    assert len(lines) == 2
    assert lines[0].startswith("copying:   0%")
    assert lines[1].startswith("copying: 100%") and lines[1].endswith("4/4 objects]")


def test_a_terminal_gets_a_bar_redrawn_in_place() -> None:
    out = Terminal()
    with progress_bar(2, desc="warm", unit="path", stream=out, mininterval=0) as bar:
        assert not isinstance(bar, LogLines)
        bar.update(2)
    text = out.getvalue()
    assert text.count("\r") >= 2  # redrawn, not appended
    assert text.rstrip("\n").rsplit("\r", 1)[-1].startswith("warm: 100%")
