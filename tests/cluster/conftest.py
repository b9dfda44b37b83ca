"""Clusters on loopback: the shipped HAProxy config in front of stand-in nodes or real proxies."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.echo import EchoServer
from tests.cluster.haproxy import NODE_NAMES, HAProxy
from tests.server_process import free_port


@dataclass
class EchoCluster:
    haproxy: HAProxy
    nodes: dict[str, EchoServer]

    def restart(self, name: str) -> None:
        self.nodes[name] = EchoServer(name, self.nodes[name].port).start()


def start_echo_cluster(log_dir: Path, **env: str) -> EchoCluster:
    nodes = {name: EchoServer(name, free_port()).start() for name in NODE_NAMES}
    ports = {name: node.port for name, node in nodes.items()}
    haproxy = HAProxy(free_port(), free_port(), ports, log_dir / "haproxy.log", env)
    for name in NODE_NAMES:
        haproxy.wait_status(name, "UP")
    return EchoCluster(haproxy, nodes)


def stop_echo_cluster(cluster: EchoCluster) -> None:
    cluster.haproxy.stop()
    for node in cluster.nodes.values():
        node.stop()


@pytest.fixture(scope="module")
def echo_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EchoCluster]:
    """Three stand-in nodes behind HAProxy, shared by the tests of a module that change nothing."""
    cluster = start_echo_cluster(tmp_path_factory.mktemp("haproxy"))
    yield cluster
    stop_echo_cluster(cluster)


@pytest.fixture
def own_echo_cluster(tmp_path: Path) -> Iterator[EchoCluster]:
    """A cluster of stand-in nodes for one test, which may stop and start them."""
    cluster = start_echo_cluster(tmp_path)
    yield cluster
    # A test may have stopped a node; stopping it again must not hide the test's own failure.
    cluster.haproxy.stop()
    for node in cluster.nodes.values():
        with contextlib.suppress(OSError):
            node.stop()
