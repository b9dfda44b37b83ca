"""A real Prometheus (Debian's package) scraping a real `serve --workers 2`, with the scrape
config from config/prometheus/, and every query of the Grafana dashboard evaluated through
Prometheus's HTTP API after a little traffic of each kind: each returns data."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import Counter, Histogram
from prometheus_client.parser import text_string_to_metric_families

from proxy import metrics
from tests.conftest import encode_image
from tests.converter import media
from tests.server_process import ServerProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
SCRAPE_CONFIG = ROOT / "config" / "prometheus" / "prometheus.yml"
DASHBOARD = ROOT / "config" / "grafana" / "proxy-dashboard.json"
BUCKET = "abc-public"
# What Grafana would put for $__rate_interval: several scrapes (here 1 s apart) in each window.
RATE_INTERVAL = "1m"


def tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.fail(f"{name} is missing: ./scripts/test.sh installs Debian's prometheus package")
    return path


def get(url: str, timeout: float = 10) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds  # a safety net: the condition is what is waited for
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def proxy(data_path: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    """`serve --workers 2` over local storage with one object of each kind."""
    storage = data_path / "storage" / BUCKET
    (storage / "images").mkdir(parents=True, exist_ok=True)
    (storage / "images" / "photo.jpg").write_bytes(encode_image(800, 600, ".jpg"))
    (storage / "images" / "scan.tif").write_bytes(media.tiff16(media.gradient16()))
    (storage / "videos").mkdir()
    (storage / "videos" / "clip.mp4").write_bytes(media.video("mp4", "libx264", frames=20))
    (storage / "docs").mkdir()
    (storage / "docs" / "notes.txt").write_bytes(b"not an image\n")
    env = {
        "DATA_PATH": str(data_path),
        # Small enough that a few previews evict each other.
        "CACHE_PREVIEWS_SIZE": "64k",
    }
    with ServerProcess(env, tmp_path, args=("--workers", "2")) as server:
        yield server


class Prometheus:
    def __init__(self, target: str, folder: Path) -> None:
        config = yaml.safe_load(SCRAPE_CONFIG.read_text(encoding="utf-8"))
        config["global"]["scrape_interval"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        (job,) = config["scrape_configs"]
        job["static_configs"] = [{"targets": [target]}]
        self.job = job["job_name"]
        folder.mkdir(parents=True, exist_ok=True)
        config_file = folder / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "prometheus.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    tool("prometheus"),
                    f"--config.file={config_file}",
                    f"--storage.tsdb.path={folder / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self.ready, "Prometheus to be ready")

    def ready(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return get(self.url + "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        status, body = get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        answer = json.loads(body)
        assert status == 200 and answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def prometheus(proxy: ServerProcess, tmp_path: Path) -> Iterator[Prometheus]:
    server = Prometheus(f"127.0.0.1:{proxy.port}", tmp_path / "prometheus")
    try:
        yield server
    finally:
        server.stop()


def promtool_check_metrics(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("promtool"), "check", "metrics"], input=text, capture_output=True, text=True
    )


def families(text: str) -> dict[str, int]:
    """Metric family name -> number of samples, from the Prometheus text format."""
    return {f.name: len(f.samples) for f in text_string_to_metric_families(text)}


def declared() -> dict[str, str]:
    """Every counter and histogram in proxy/metrics.py: family name -> type."""
    found = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter | Histogram):
            for family in value.describe():
                found[family.name] = family.type
    return found


def test_first_scrape_has_every_counter_and_histogram_and_promtool_accepts_it(
    proxy: ServerProcess,
) -> None:
    status, body = get(proxy.base + "/metrics")  # the first scrape this server answers
    assert status == 200
    text = body.decode()
    present = families(text)
    for name, kind in declared().items():
        assert present.get(name, 0) > 0, f"{kind} {name} is absent from the first scrape"
    # Under --workers 2 the families come from prometheus-client's multiprocess collector.
    checked = promtool_check_metrics(text)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_promtool_accepts_the_scrape_config() -> None:
    checked = subprocess.run(
        [tool("promtool"), "check", "config", str(SCRAPE_CONFIG)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def traffic(base: str, data_path: Path) -> None:
    """A little of each kind: originals (miss, hit, head, range, missing), previews (enough to
    evict), conversions and a video frame, a 415, health; then a purge from the command line."""
    originals = f"{base}/{BUCKET}/images/photo.jpg"
    for _ in range(2):
        assert get(originals)[0] == 200
    head = urllib.request.Request(f"{base}/{BUCKET}/images/scan.tif", method="HEAD")
    with urllib.request.urlopen(head, timeout=10) as response:
        assert response.status == 200
    ranged = urllib.request.Request(
        f"{base}/{BUCKET}/videos/clip.mp4", headers={"Range": "bytes=0-99"}
    )
    with urllib.request.urlopen(ranged, timeout=10) as response:
        assert response.status == 206
    assert get(f"{base}/{BUCKET}/images/missing.jpg")[0] == 404
    for width in (100, 200, 300, 400, 500, 600):
        url = f"{base}/previews/q/rs:fit:{width}:0/plain/{BUCKET}/images/photo.jpg@png"
        assert get(url, timeout=60)[0] == 200
    assert get(f"{base}/previews/300x,jpeg,q70/{BUCKET}/images/photo.jpg")[0] == 200
    assert get(f"{base}/image-converter/convert/{BUCKET}/images/scan.tif", timeout=60)[0] == 200
    frame = f"{base}/image-converter/videoframe/50p/{BUCKET}/videos/clip.mp4?videoStreamIndex=0"
    assert get(frame, timeout=60)[0] == 200
    assert get(f"{base}/image-converter/convert/{BUCKET}/docs/notes.txt")[0] == 415
    assert get(f"{base}/health")[0] == 200
    purged = subprocess.run(
        [sys.executable, "-m", "proxy", "cache", "purge", "--prefix", f"{BUCKET}/docs/"],
        env={"PATH": "/usr/bin:/bin", "DATA_PATH": str(data_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert purged.returncode == 0, purged.stderr


def dashboard_queries() -> tuple[list[tuple[str, str]], list[str]]:
    """(panel title, PromQL) of every target, and the template variables' queries."""
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    targets = []

    def walk(panels: list[dict[str, Any]]) -> None:
        for panel in panels:
            targets.extend((panel["title"], t["expr"]) for t in panel.get("targets", []))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    variables = [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return targets, variables


def substitute(expr: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        expr = expr.replace(f"${name}", value).replace(f"${{{name}}}", value)
    assert "$" not in expr, f"a template variable is left in {expr}"
    return expr


def finite(result: list[dict[str, Any]]) -> list[float]:
    return [float(r["value"][1]) for r in result if math.isfinite(float(r["value"][1]))]


@pytest.mark.timeout(600)
def test_every_dashboard_query_returns_data_after_a_little_traffic(
    proxy: ServerProcess, prometheus: Prometheus, data_path: Path
) -> None:
    instance = f"127.0.0.1:{proxy.port}"
    up = f'up{{job="{prometheus.job}",instance="{instance}"}}'
    wait_for(lambda: [r["value"][1] for r in prometheus.query(up)] == ["1"], "the first scrape")
    traffic(proxy.base, data_path)

    # The template variables, asked as Grafana asks them: the job and this node are offered.
    targets, variables = dashboard_queries()
    # As Grafana puts a chosen value into a =~ matcher: regex-escaped, then PromQL-quoted.
    values = {"job": prometheus.job, "instance": re.escape(instance).replace("\\", "\\\\")}
    offered = {"job": prometheus.job, "instance": instance}
    for definition in variables:
        match = re.fullmatch(r"label_values\((.+), (\w+)\)", definition)
        assert match, definition
        selector, label = substitute(match.group(1), values), match.group(2)
        wait_for(
            lambda s=selector, n=label: (
                offered[n]  # type: ignore[misc]
                in prometheus.api(f"label/{n}/values", **{"match[]": s})
            ),
            f"label_values({selector}, {label})",
        )

    values["__rate_interval"] = RATE_INTERVAL
    for title, expr in targets:
        query = substitute(expr, values)
        answers: list[list[dict[str, Any]]] = []

        def has_data(q: str = query, seen: list[list[dict[str, Any]]] = answers) -> bool:
            seen.append(prometheus.query(q))
            return bool(finite(seen[-1]))

        try:
            wait_for(has_data, f"data for {title!r}", seconds=60)
        except AssertionError as exc:
            raise AssertionError(f"{title!r}: {query} returned {answers[-1:]}: {exc}") from None
        # Every series is this node's: the Node variable filters every panel.
        assert all(r["metric"].get("instance", instance) == instance for r in answers[-1])

    exposition = get(proxy.base + "/metrics")[1].decode()
    checked = promtool_check_metrics(exposition)
    assert checked.returncode == 0, checked.stdout + checked.stderr
