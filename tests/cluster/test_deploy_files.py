"""The deployment files agree with each other and with the HAProxy config: every server line
has a node in compose and in Kubernetes, each node its own cache volume, and the Kubernetes
manifests are valid against the Kubernetes schemas."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.cluster.haproxy import CONFIG, NODE_NAMES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.cluster.yml"
KUBERNETES = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
KUBERNETES_VERSION = "1.30.0"
_SERVER = re.compile(r'^\s*server (\S+) "\$\{(NODE\d+_ADDR)-([^}]+)\}" id (\d+)\s*$', re.M)


def servers() -> list[tuple[str, str, str, int]]:
    """(name, address variable, default address, id) of each server line in haproxy.cfg."""
    return [(n, var, addr, int(i)) for n, var, addr, i in _SERVER.findall(CONFIG.read_text())]


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_server_lines_have_fixed_distinct_ids() -> None:
    found = servers()
    assert [name for name, *_ in found] == list(NODE_NAMES)
    assert [server_id for *_, server_id in found] == [1, 2, 3]


def test_compose_runs_one_node_per_server_line_each_with_its_own_volume() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    haproxy_env = services["haproxy"]["environment"]
    volumes = set()
    for name, variable, default, _ in servers():
        assert haproxy_env[variable] == default == f"{name}:8080"
        node = services[name]
        assert node["environment"]["NODE_NAME"] == name
        assert node["environment"]["DATA_PATH"] == "/data"
        (volume,) = node["volumes"]
        volumes.add(volume.split(":")[0])
        assert volume.endswith(":/data")
    assert volumes == set(compose["volumes"]) and len(volumes) == len(NODE_NAMES)
    assert services["haproxy"]["volumes"] == [
        "./config/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"
    ]


@pytest.mark.parametrize("path", KUBERNETES, ids=lambda p: p.name)
def test_kubernetes_manifests_are_valid(path: Path) -> None:
    for document in documents(path):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kubernetes_haproxy_has_a_stateful_replica_per_server_line() -> None:
    by_kind = {d["kind"]: d for path in KUBERNETES for d in documents(path)}
    nodes = by_kind["StatefulSet"]
    assert nodes["spec"]["replicas"] == len(servers())
    assert nodes["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    (container,) = by_kind["Deployment"]["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    service = nodes["spec"]["serviceName"]
    for index, (_, variable, _, _) in enumerate(servers()):
        pod = f"{nodes['metadata']['name']}-{index}"
        assert env[variable] == f"{pod}.{service}.$(POD_NAMESPACE).svc.cluster.local:8080"
