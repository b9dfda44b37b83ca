"""Three real proxy nodes behind the shipped HAProxy config, over one S3 store (moto)."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.cluster.client import Answer
from tests.cluster.haproxy import NODE_NAMES, HAProxy
from tests.cluster.nodes import Node
from tests.cluster.objects import SourceObject, make_objects, problem, requests_for
from tests.cluster.routing import Form, proxy_source
from tests.server_process import free_port
from tests.storage.conftest import S3_KEY_ID, S3_SECRET, Server, s3_client, unique_bucket


@dataclass
class Cluster:
    haproxy: HAProxy
    nodes: dict[str, Node]
    bucket: str
    objects: dict[str, SourceObject]  # by "<bucket>/<key>"

    def forms(self, *, ranges: bool) -> list[Form]:
        return [
            form
            for obj in self.objects.values()
            for form in requests_for(self.bucket, obj, ranges=ranges)
        ]

    def a_preview_of(self, origin: str) -> Form:
        obj = self.objects[origin]
        return next(f for f in requests_for(self.bucket, obj, ranges=False) if f.width)

    def reads(self, names: Sequence[str] = NODE_NAMES) -> dict[str, int]:
        return {name: self.nodes[name].store_reads() for name in names}


@contextlib.contextmanager
def real_cluster(moto: Server, tmp_path: Path, **env: str) -> Iterator[Cluster]:
    """Three `serve` nodes over one bucket in moto, the shipped HAProxy config in front."""
    bucket = unique_bucket()
    s3 = s3_client(moto.url)
    s3.create_bucket(Bucket=bucket)
    objects = make_objects()
    for obj in objects:
        s3.put_object(Bucket=bucket, Key=obj.key, Body=obj.data)
    storage = {
        "STORAGE_PROVIDER": "minio",
        "STORAGE_ENDPOINT": moto.url,
        "STORAGE_BUCKETS": bucket,
        "STORAGE_ACCESS_KEY": S3_KEY_ID,
        "STORAGE_SECRET_KEY": S3_SECRET,
        **env,
    }
    nodes = {
        name: Node(name, free_port(), tmp_path / name / "data", storage) for name in NODE_NAMES
    }
    haproxy: HAProxy | None = None
    try:
        for node in nodes.values():
            node.data_path.mkdir(parents=True)
            node.start()
        ports = {name: node.port for name, node in nodes.items()}
        haproxy = HAProxy(free_port(), free_port(), ports, tmp_path / "haproxy.log")
        for name in NODE_NAMES:
            haproxy.wait_status(name, "UP")
        yield Cluster(haproxy, nodes, bucket, {f"{bucket}/{o.key}": o for o in objects})
    finally:
        if haproxy is not None:
            haproxy.stop()
        for node in nodes.values():
            node.stop()


def origin_of(answer: Answer) -> str:
    origin = proxy_source(answer.form.raw_path, answer.form.raw_query)
    assert origin is not None, answer.form
    return origin


def check(cluster: Cluster, answers: Sequence[Answer]) -> dict[str, set[str]]:
    """Every answer right; returns the nodes that answered for each object."""
    problems = [p for a in answers if (p := problem(a, cluster.objects[origin_of(a)]))]
    assert problems == [], f"{len(problems)} wrong answers, e.g. {problems[:5]}"
    served: dict[str, set[str]] = defaultdict(set)
    for answer in answers:
        served[origin_of(answer)].add(answer.node)
    return served


def owners(served: dict[str, set[str]]) -> dict[str, str]:
    """The one node that answered for each object."""
    assert all(len(nodes) == 1 for nodes in served.values()), served
    return {origin: next(iter(nodes)) for origin, nodes in served.items()}


def cached(answers: Sequence[Answer]) -> bool:
    whole = [a for a in answers if a.form.method == "GET" and "Range" not in a.form.headers]
    return bool(whole) and all(a.cache == "HIT" for a in whole)
