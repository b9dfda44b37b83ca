"""The /metrics text: this process's registry, or the sum over every worker's files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client import Counter

from proxy.metrics_export import render_metrics
from tests.conftest import metric_value

ROOT = Path(__file__).resolve().parents[1]

WORKER = """
import sys
from prometheus_client import Counter
Counter("export_test_requests", "test", ["worker"]).labels(sys.argv[1]).inc(int(sys.argv[2]))
"""


def test_a_single_process_renders_its_own_registry(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    counter = Counter("export_single_test", "a counter of this test")
    try:
        counter.inc(3)
        text = render_metrics().decode()
        assert metric_value(text, "export_single_test_total") == 3
    finally:
        from prometheus_client import REGISTRY

        REGISTRY.unregister(counter)


def test_with_several_workers_the_files_are_summed(tmp_path, monkeypatch):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for worker, count in (("a", 2), ("b", 5), ("a", 1)):
        subprocess.run(
            [sys.executable, "-c", WORKER, worker, str(count)], env=env, cwd=ROOT, check=True
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    text = render_metrics().decode()
    assert metric_value(text, "export_test_requests_total", worker="a") == 3
    assert metric_value(text, "export_test_requests_total", worker="b") == 5
    # Only the workers' files count, not this process's own registry.
    assert "python_info" not in text


def test_no_worker_files_yet_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert render_metrics() == b""
