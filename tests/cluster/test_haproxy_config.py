"""The shipped HAProxy config as an operator meets it: valid as shipped, the client's address
passed on once, a request id to find a request in the log, the stats page and its metrics."""

from __future__ import annotations

import json
import os
import subprocess

from tests.cluster.conftest import EchoCluster
from tests.cluster.haproxy import CONFIG, haproxy_binary
from tests.cluster.haproxy import get as request


def test_the_config_is_valid_as_shipped_with_nodes_not_yet_resolvable() -> None:
    # No address variables: the defaults name compose services (node1, ...) that do not
    # resolve here, as they may not at a container's start; HAProxy must start anyway.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAPROXY_", "NODE"))}
    done = subprocess.run(
        [haproxy_binary(), "-c", "-f", str(CONFIG)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_node_sees_the_client_address_once_and_a_request_id(echo_cluster: EchoCluster) -> None:
    status, body, headers = request(
        echo_cluster.haproxy.base + "/abc-public/a.jpg",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "forged"},
    )
    assert status == 200
    seen = json.loads(body)["headers"]
    # A client's own X-Forwarded-For is not passed on: HAProxy is the edge.
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-request-id"] == headers["x-request-id"] != "forged"
    routed = echo_cluster.haproxy.routed(headers["x-request-id"])
    assert routed.server == headers["x-served-by"]
    assert routed.key == b"abc-public/a.jpg"


def test_stats_page_and_prometheus_metrics(echo_cluster: EchoCluster) -> None:
    stats = echo_cluster.haproxy.stats_base
    status, page, _ = request(stats + "/")
    assert status == 200 and b"node1" in page and b"node3" in page
    rows = [r for r in echo_cluster.haproxy.stats() if r["pxname"] == "nodes"]
    assert {r["svname"]: r["status"] for r in rows if r["svname"] != "BACKEND"} == {
        "node1": "UP",
        "node2": "UP",
        "node3": "UP",
    }
    status, metrics, _ = request(stats + "/metrics")
    assert status == 200
    text = metrics.decode()
    for name in ("node1", "node2", "node3"):
        assert f'haproxy_server_status{{proxy="nodes",server="{name}",state="UP"}} 1' in text
    assert 'haproxy_server_redispatch_warnings_total{proxy="nodes",server="node1"}' in text
