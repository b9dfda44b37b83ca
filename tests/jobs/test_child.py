"""The render process's own parts: its log, its memory limit, and a quiet server log."""

import logging
import urllib.request

from proxy.jobs.child import JobLog
from tests.conftest import encode_image
from tests.server_process import ServerProcess


def record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("pyvips", level, __file__, 1, message, None, None)


def test_libvips_chatter_is_dropped_and_each_warning_kept_once():
    log = JobLog()
    for _ in range(14):
        log.emit(record(logging.INFO, "threadpool completed with 2 workers"))
    for _ in range(3):
        log.emit(record(logging.WARNING, "read gave 1 warnings"))
    log.emit(record(logging.ERROR, "out of order read"))
    assert log.drain() == [
        (logging.WARNING, "read gave 1 warnings"),
        (logging.ERROR, "out of order read"),
    ]
    assert log.drain() == []  # the next job starts with nothing


def test_renders_at_log_level_info_keep_the_server_log_quiet(data_path, tmp_path):
    (data_path / "storage" / "abc-public" / "p.jpg").write_bytes(encode_image(800, 600))
    env = {"DATA_PATH": str(data_path), "LOG_LEVEL": "info"}
    with ServerProcess(env, tmp_path) as server:
        for width in range(100, 118):
            url = f"{server.base}/previews/q/rs:fit:{width}:0/plain/abc-public/p.jpg"
            with urllib.request.urlopen(url, timeout=30) as answer:
                assert answer.status == 200
        output = server.stop()
    libvips_lines = [line for line in output.splitlines() if "pyvips" in line.lower()]
    assert libvips_lines == []
