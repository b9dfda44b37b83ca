"""The machine's own floor for event-loop lag: how long a process that never waits for
anything goes without running.

`python -m benchmarks.hiccup SECONDS [CPU]` reads the clock in a tight loop (pinned to CPU
when given) and prints, as JSON, the longest gap between two readings in each 0.25 s
window: the same window as the lag samplers'. Any gap is time the kernel or the hypervisor
gave to something else (an interrupt, another task, a stolen slice of the virtual CPU), so
no event loop on this machine can have a lag percentile below this one's. `steal` is the
share of the CPU's time the hypervisor reported taking (`/proc/stat`) during the run.
"""

from __future__ import annotations

import json
import os
import sys
import time

WINDOW = 0.25


def worst_gaps(seconds: float) -> list[float]:
    clock = time.perf_counter
    out: list[float] = []
    start = last = clock()
    end = start + seconds
    window_end, worst = start + WINDOW, 0.0
    while True:
        now = clock()
        if now - last > worst:
            worst = now - last
        last = now
        if now >= window_end:
            out.append(worst)
            window_end, worst = now + WINDOW, 0.0
            if now >= end:
                return out


def cpu_times(cpu: int | None) -> list[int]:
    """user..steal jiffies of one CPU (or of all) from /proc/stat."""
    name = "cpu" if cpu is None else f"cpu{cpu}"
    with open("/proc/stat") as stat:
        for line in stat:
            fields = line.split()
            if fields[0] == name:
                return [int(x) for x in fields[1:9]]
    return [0] * 8


def main(argv: list[str]) -> None:
    seconds = float(argv[0])
    cpu = int(argv[1]) if len(argv) > 1 else None
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    before = cpu_times(cpu)
    gaps = worst_gaps(seconds)
    after = cpu_times(cpu)
    spent = [b - a for a, b in zip(before, after, strict=True)]
    steal = spent[7] / max(1, sum(spent))
    print(json.dumps({"worst_gaps": gaps, "steal": steal}))


if __name__ == "__main__":
    main(sys.argv[1:])
