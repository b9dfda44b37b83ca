"""The container's health probe: exit 0 only for a plain 200, with one line saying why."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from proxy import healthcheck

ANSWERS = {
    "/health": (200, b'{"status": "ok"}', {}),
    "/sick": (503, b'{"status": "unavailable", "storage": "minio: bucket missing"}\n', {}),
    "/empty": (204, b"", {}),
    "/moved": (302, b"", {"Location": "/health"}),
    "/long": (503, b"x" * 5000, {}),
}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body, headers = ANSWERS.get(self.path, (404, b"no", {}))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_200_is_healthy(base):
    assert healthcheck.check(f"{base}/health") == (True, f"{base}/health: 200")


def test_a_503_is_unhealthy_and_says_what_is_wrong(base):
    healthy, line = healthcheck.check(f"{base}/sick")
    assert not healthy
    assert line == (
        f'{base}/sick: 503 {{"status": "unavailable", "storage": "minio: bucket missing"}}'
    )


def test_only_the_start_of_a_long_answer_is_said(base):
    healthy, line = healthcheck.check(f"{base}/long")
    assert not healthy
    assert line == f"{base}/long: 503 " + "x" * 2000


def test_anything_but_a_plain_200_is_unhealthy(base):
    assert healthcheck.check(f"{base}/empty") == (False, f"{base}/empty: 204")
    assert healthcheck.check(f"{base}/nowhere") == (False, f"{base}/nowhere: 404 no")
    # A redirect is followed, and what it leads to decides.
    assert healthcheck.check(f"{base}/moved") == (True, f"{base}/moved: 200")


def test_nothing_listening_is_unhealthy():
    url = f"http://127.0.0.1:{closed_port()}/health"
    healthy, line = healthcheck.check(url)
    assert not healthy
    assert line.startswith(f"{url}: ") and "refused" in line.lower()


def test_a_bad_url_is_unhealthy_not_a_crash():
    healthy, line = healthcheck.check("not a url")
    assert not healthy
    assert line.startswith("not a url: ")


def test_main_exits_0_for_healthy_and_prints_to_stdout(base, capsys):
    assert healthcheck.main([f"{base}/health"]) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (f"{base}/health: 200\n", "")


def test_main_exits_1_for_unhealthy_and_prints_to_stderr(base, capsys):
    assert healthcheck.main([f"{base}/sick"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.startswith(f"{base}/sick: 503 ")


@pytest.mark.parametrize("args", [["-h"], ["--help"], ["a", "b"]])
def test_usage_exits_1_never_2(args, capsys):
    assert healthcheck.main(args) == 1  # Docker reserves 2
    assert capsys.readouterr().err.startswith("`python -m proxy.healthcheck [URL]`")


def test_the_default_url_is_the_local_health():
    assert healthcheck.DEFAULT_URL == "http://127.0.0.1:8080/health"
    assert 0 < healthcheck.TIMEOUT < 5
