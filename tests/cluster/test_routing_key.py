"""HAProxy hashes exactly what the proxy decodes as the source object, in every URL form.

For each object and each spelling of a request for it, the key HAProxy logged must equal the
"<bucket>/<key>" the proxy's own parsers read, and every spelling must reach the same node.
"""

from __future__ import annotations

import pytest

from proxy.access.signature import sign
from proxy.formats import URL_NAMES
from tests.cluster.conftest import EchoCluster
from tests.cluster.haproxy import get
from tests.cluster.objects import AWKWARD_KEYS
from tests.cluster.routing import (
    Form,
    b64,
    converted_forms,
    info_forms,
    original_forms,
    preview_forms,
    proxy_source,
    standard,
    video_forms,
)

BUCKET = "abc-public"
KEYS = ["images/original/2/X/Re/photo.jpg", *AWKWARD_KEYS]


def all_forms(key: str) -> list[Form]:
    return [
        *original_forms(BUCKET, key),
        *preview_forms(BUCKET, key, 300),
        *converted_forms(BUCKET, key, 200),
        *video_forms(BUCKET, key, 120),
        *info_forms(BUCKET, key),
    ]


def route(cluster: EchoCluster, form: Form) -> tuple[str, bytes | None]:
    """(the node that answered, the key HAProxy hashed)."""
    status, _, headers = get(cluster.haproxy.base + form.path, form.method, form.headers)
    assert status == 200, form
    routed = cluster.haproxy.routed(headers["x-request-id"])
    assert routed.server == headers["x-served-by"]
    return routed.server, routed.key


@pytest.mark.parametrize("key", KEYS)
def test_every_form_hashes_the_decoded_source(echo_cluster: EchoCluster, key: str) -> None:
    origin = f"{BUCKET}/{key}"
    nodes: dict[str, set[str]] = {}
    for form in all_forms(key):
        expected = proxy_source(form.raw_path, form.raw_query)
        if "?" not in key:
            assert expected == origin, form.label
        elif form.label.startswith("plain"):
            # In a plain source a '?', even escaped, starts the query (imgproxy's rule): the
            # key is cut there, for the proxy and for HAProxy alike.
            assert expected == origin.partition("?")[0], form.label
        node, hashed = route(echo_cluster, form)
        assert hashed is not None and hashed.decode() == expected, form.label
        nodes.setdefault(expected, set()).add(node)
    assert all(len(reached) == 1 for reached in nodes.values())


def test_an_at_sign_before_a_format_name_is_the_extension_for_both(
    echo_cluster: EchoCluster,
) -> None:
    # Raw, "x/logo@png" reads as key "x/logo" with extension png; encoded, the '@' is the key's.
    for path, origin in [
        (f"/previews/q/rs:fit:10:0/plain/{BUCKET}/x/logo@png", f"{BUCKET}/x/logo"),
        (f"/previews/q/rs:fit:10:0/plain/{BUCKET}/x/logo%40png", f"{BUCKET}/x/logo@png"),
    ]:
        assert proxy_source(path) == origin
        _, hashed = route(echo_cluster, Form(path, path, "preview"))
        assert hashed == origin.encode()


@pytest.mark.parametrize("name", sorted(a.upper() for a in URL_NAMES))
def test_a_format_name_in_capitals_is_no_extension(name: str) -> None:
    # imgproxy spells format names in lower case only; `@JPEG` is a 400 from any node.
    assert proxy_source(f"/previews/q/rs:fit:10:0/plain/{BUCKET}/x/photo@{name}") is None


@pytest.mark.parametrize("alias", sorted(URL_NAMES))
def test_every_output_format_name_is_an_extension_to_both(
    echo_cluster: EchoCluster, alias: str
) -> None:
    # The config lists the format names of proxy/formats.py; a new one must be added there.
    origin = f"{BUCKET}/x/photo"
    for path in [
        f"/previews/q/rs:fit:10:0/plain/{origin}@{alias}",
        f"/previews/q/rs:fit:10:0/{b64(origin)}.{alias}",
    ]:
        assert proxy_source(path) == origin
        _, hashed = route(echo_cluster, Form(path, path, "preview"))
        assert hashed == origin.encode(), path


def test_objects_spread_over_the_nodes(echo_cluster: EchoCluster) -> None:
    nodes = set()
    for i in range(60):
        path = f"/{BUCKET}/{standard(f'images/{i}/photo.jpg')}"
        nodes.add(route(echo_cluster, Form(path, path, "original"))[0])
    assert nodes == {"node1", "node2", "node3"}


@pytest.mark.parametrize(
    "path",
    [
        "/health",
        "/metrics",
        "/",
        f"/{BUCKET}",
        f"/{BUCKET}/",
        "/previews/q/rs:fit:10:0/not*base64!.jpg",
        "/previews/q/rs:fit:10:0/Y.jpg",  # one base64 character decodes to nothing
    ],
)
def test_what_has_no_source_is_balanced_round_robin(echo_cluster: EchoCluster, path: str) -> None:
    assert proxy_source(path) is None
    nodes = set()
    # The fallback walks HAProxy's ring: 20 answers from one node would be a 1-in-10^9 fluke.
    for _ in range(20):
        node, hashed = route(echo_cluster, Form(path, path, "none"))
        assert hashed is None
        nodes.add(node)
    assert len(nodes) > 1


@pytest.mark.parametrize("key", KEYS[:4])
def test_a_signed_url_goes_to_the_node_that_holds_the_object(
    echo_cluster: EchoCluster, key: str
) -> None:
    # `sig` and `exp` are in the query, which no routing rule reads: the signed URL of an
    # original, a conversion or a video frame hashes as the object, like its previews do.
    origin = f"{BUCKET}/{key}"
    unsigned = Form("original", f"/{BUCKET}/{standard(key)}", "original")
    node, _ = route(echo_cluster, unsigned)
    for path in (
        f"/{BUCKET}/{standard(key)}",
        f"/image-converter/convert/{BUCKET}/{standard(key)}",
        f"/image-converter/videoframe/33p/{BUCKET}/{standard(key)}",
    ):
        for query in (
            f"sig={sign(b'k', b's', path)}",
            f"exp=1767225600&sig={sign(b'k', b's', path + '?exp=1767225600')}",
            f"videoStreamIndex=0&exp=1767225600&sig={'A' * 43}",
        ):
            signed = Form("signed", f"{path}?{query}", "original")
            assert proxy_source(signed.raw_path, signed.raw_query) == origin
            reached, hashed = route(echo_cluster, signed)
            assert (reached, hashed) == (node, origin.encode()), signed.path
