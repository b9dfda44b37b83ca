"""A prefix purge sent to every node: real HTTP servers on loopback stand for the nodes, one
that purges, one that refuses the token, one that is not there."""

from __future__ import annotations

import pytest
from aiohttp import web

from proxy.purge_nodes import nodes_from_dns, purge_nodes
from tests.server_process import free_port


def test_a_dns_name_gives_every_address_as_a_base_url() -> None:
    nodes = nodes_from_dns("localhost:8123")
    assert "http://127.0.0.1:8123" in nodes
    assert all(n.endswith(":8123") for n in nodes)
    assert nodes == sorted(set(nodes))


@pytest.mark.parametrize("name", ["localhost", "localhost:http", ":8080"])
def test_a_dns_name_without_a_port_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        nodes_from_dns(name)


async def test_each_node_is_asked_and_each_answer_reported(aiohttp_server) -> None:  # type: ignore[no-untyped-def]
    asked: list[dict[str, str]] = []

    async def purge(request: web.Request) -> web.Response:
        asked.append(
            {
                **request.query,
                **{h: request.headers[h] for h in ("Authorization", "X-Purge-Origin")},
            }
        )
        if request.headers["Authorization"] != "Bearer s3cret-token-0123456789":
            return web.Response(status=401, text="wrong token")
        return web.json_response({"purged": 7})

    app = web.Application()
    app.router.add_post("/admin/purge", purge)
    good = await aiohttp_server(app)
    gone = f"http://127.0.0.1:{free_port()}"
    nodes = [str(good.make_url("")), gone]
    results = await purge_nodes(
        nodes, "abc-public/2024/", "s3cret-token-0123456789", everything=False, cache="previews"
    )
    assert [(r.node, r.purged) for r in results] == [(nodes[0], 7), (gone, None)]
    assert "ClientConnectorError" in results[1].problem
    assert asked == [
        {
            "prefix": "abc-public/2024/",
            "cache": "previews",
            "Authorization": "Bearer s3cret-token-0123456789",
            "X-Purge-Origin": "cli",
        }
    ]

    refused = await purge_nodes(nodes[:1], "", "wrong", everything=True, cache=None)
    assert refused[0].purged is None and refused[0].problem == "401 wrong token"
    assert asked[-1]["all"] == "true" and asked[-1]["prefix"] == ""
