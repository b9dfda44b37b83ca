"""A node that leaves moves only its own objects; a node that joins takes only its new share.

Routing does not depend on what the nodes answer, so stand-in nodes name themselves and
3,000 object keys are routed through the shipped config. HAProxy's ring is a function of the
server ids and the keys alone, so these shares are the same on every run.
"""

from __future__ import annotations

import http.client

from tests.cluster.conftest import EchoCluster

KEYS = [f"/abc-public/images/original/{i % 7}/{i % 13}/x{i}/photo-{i}.jpg" for i in range(3000)]


def routes(cluster: EchoCluster) -> dict[str, str]:
    """The node each key goes to (one kept-alive connection, a HEAD per key)."""
    connection = http.client.HTTPConnection("127.0.0.1", cluster.haproxy.port, timeout=30)
    found = {}
    try:
        for key in KEYS:
            connection.request("HEAD", key)
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            found[key] = answer.getheader("X-Served-By", "")
    finally:
        connection.close()
    return found


def about(share: float, expected: float) -> bool:
    # A consistent-hash ring is not perfectly even: within a quarter of the ideal share.
    return abs(share - expected) < expected / 4


def test_a_node_that_leaves_moves_only_its_share_and_gets_it_back(
    own_echo_cluster: EchoCluster,
) -> None:
    cluster = own_echo_cluster
    before = routes(cluster)
    for name in ("node1", "node2", "node3"):
        assert about(list(before.values()).count(name) / len(KEYS), 1 / 3), name

    cluster.nodes["node2"].stop()
    cluster.haproxy.wait_status("node2", "DOWN")
    during = routes(cluster)
    moved = {key for key in KEYS if during[key] != before[key]}
    assert moved == {key for key in KEYS if before[key] == "node2"}
    assert about(len(moved) / len(KEYS), 1 / 3)
    assert {during[key] for key in moved} == {"node1", "node3"}  # spread, not dumped on one

    cluster.restart("node2")
    cluster.haproxy.wait_status("node2", "UP")
    assert routes(cluster) == before


def test_a_node_that_joins_takes_only_its_new_share(own_echo_cluster: EchoCluster) -> None:
    cluster = own_echo_cluster
    cluster.nodes["node3"].stop()
    cluster.haproxy.wait_status("node3", "DOWN")
    two = routes(cluster)
    assert set(two.values()) == {"node1", "node2"}

    cluster.restart("node3")
    cluster.haproxy.wait_status("node3", "UP")
    three = routes(cluster)
    moved = {key for key in KEYS if three[key] != two[key]}
    assert {three[key] for key in moved} == {"node3"}  # nothing moves between the old nodes
    assert about(len(moved) / len(KEYS), 1 / 3)  # 1/(N+1) with N = 2
