"""Which process owns a fill or a file, and whether it still runs.

A pid alone can be reused after a crash; the pid with the process's start time (from
/proc) names one process for good, so a fill or staging file of a dead worker is recognised
as such even when a new process got its pid.
"""

from __future__ import annotations

import functools
import os


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:  # not Linux, or /proc hidden: fall back to the pid alone
        return "0"
    fields = stat.rsplit(b")", 1)[1].split()
    if fields[0] == b"Z":  # a zombie has finished
        return None
    return fields[19].decode()  # field 22, starttime, counted after "(comm)"


@functools.cache
def me() -> str:
    """This process, as "<pid>-<start time>"."""
    return f"{os.getpid()}-{_start_time(os.getpid()) or '0'}"


def alive(owner: str) -> bool:
    pid_text, _, started = owner.partition("-")
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return owner == me()
    now = _start_time(pid)
    if now is None:
        return False
    return now == started or now == "0" or started == "0"
