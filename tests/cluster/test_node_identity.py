"""Which node answered: NODE_NAME (or the host name) in every answer, in /health and in `where`."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from proxy.settings import Settings, SettingsError, parse_settings
from tests.conftest import encode_image

MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def test_node_name_defaults_to_the_host_name(tmp_path: Path) -> None:
    settings = parse_settings({"DATA_PATH": str(tmp_path)})
    assert settings.node_name == socket.gethostname()[:63]
    assert parse_settings({"DATA_PATH": str(tmp_path), "NODE_NAME": "eu-2.b"}).node_name == "eu-2.b"


@pytest.mark.parametrize("bad", ["two words", "a\r\nX-Injected: 1", "-leading", "x" * 64])
def test_a_node_name_that_is_unsafe_in_a_header_is_refused(tmp_path: Path, bad: str) -> None:
    with pytest.raises(SettingsError) as err:
        parse_settings({"DATA_PATH": str(tmp_path), "NODE_NAME": bad})
    assert err.value.problems[0].startswith("NODE_NAME=")
    assert "letters, digits" in err.value.problems[0]


async def test_every_kind_of_answer_names_the_node(
    make_client: MakeClient,
    make_settings: Callable[..., Settings],
    put_file: Callable[..., Path],
) -> None:
    # CACHE_MAX_OBJECT_SIZE below the big object's size: it is streamed through, not cached.
    client = await make_client(make_settings(NODE_NAME="node7", CACHE_MAX_OBJECT_SIZE="1k"))
    put_file("small.jpg", encode_image(64, 48))
    put_file("big.bin", b"x" * 100_000)

    hit = await client.get("/abc-public/small.jpg")
    assert hit.status == 200
    etag = hit.headers["ETag"]
    answers = {
        "original": hit,
        "stream": await client.get("/abc-public/big.bin"),
        "range": await client.get("/abc-public/big.bin", headers={"Range": "bytes=0-9"}),
        "head": await client.head("/abc-public/small.jpg"),
        "304": await client.get("/abc-public/small.jpg", headers={"If-None-Match": etag}),
        "preview": await client.get("/previews/q/rs:fit:32:0/plain/abc-public/small.jpg"),
        "404": await client.get("/abc-public/missing.jpg"),
        "400": await client.get("/previews/q/rs:fit:32:0/plain/http://example.com/a.jpg"),
        "405": await client.post("/abc-public/small.jpg"),
        "health": await client.get("/health"),
        "metrics": await client.get("/metrics"),
    }
    statuses = {name: answer.status for name, answer in answers.items()}
    assert statuses == {
        "original": 200,
        "stream": 200,
        "range": 206,
        "head": 200,
        "304": 304,
        "preview": 200,
        "404": 404,
        "400": 400,
        "405": 405,
        "health": 200,
        "metrics": 200,
    }
    assert {name: a.headers.get("X-Served-By") for name, a in answers.items()} == dict.fromkeys(
        answers, "node7"
    )
    assert len(await answers["stream"].read()) == 100_000


async def test_health_names_the_node(
    make_client: MakeClient, make_settings: Callable[..., Settings]
) -> None:
    client = await make_client(make_settings(NODE_NAME="node2"))
    report = await (await client.get("/health")).json()
    assert report["status"] == "ok"
    assert report["node"] == "node2"


def test_where_names_the_node(tmp_path: Path) -> None:
    def where(env: dict[str, str]) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "proxy", "where"],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", "DATA_PATH": str(tmp_path), **env},
            cwd=tmp_path,
            timeout=60,
            check=True,
        )
        line = next(x for x in done.stdout.splitlines() if x.startswith("NODE_NAME"))
        return line.split(None, 1)[1]

    assert where({"NODE_NAME": "node3"}) == "node3"
    assert where({}) == f"{socket.gethostname()[:63]} (host name)"
