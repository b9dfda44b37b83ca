"""`python -m proxy sign`: what it prints is what the server admits, on every route."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from proxy.settings import parse_settings
from proxy.sign import CannotSign, signed_url
from tests.conftest import BUCKET, encode_image

SIGNED = {"SIGNATURE_KEY": b"secret".hex(), "SIGNATURE_SALT": b"hello".hex()}
URLS = (
    f"/{BUCKET}/a b/photo.jpg",
    f"/image-converter/convert/{BUCKET}/a%20b/photo.jpg?format=png",
    f"/previews/_/rs:fit:30:0/plain/{BUCKET}/a%20b/photo.jpg@png",
    "/previews/insecure/rs:fit:30:0/" + "YWJjLXB1YmxpYy9hIGIvcGhvdG8uanBn.png",
)


@pytest.fixture
async def client(make_client, make_settings, put_file):  # type: ignore[no-untyped-def]
    put_file("a b/photo.jpg", encode_image(60, 40))
    return await make_client(make_settings(**SIGNED))


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("expires", [None, 3600.0])
async def test_a_signed_url_is_admitted(client, make_settings, url, expires):
    signed = signed_url(url, make_settings(**SIGNED), expires)
    response = await client.get(signed)
    assert response.status == 200, await response.text()
    assert (await client.get(url)).status == 403


async def test_an_expiry_is_now_plus_the_duration(make_settings):
    before = int(time.time())
    query = parse_qs(urlsplit(signed_url(URLS[0], make_settings(**SIGNED), 3600)).query)
    assert before + 3600 <= int(query["exp"][0]) <= int(time.time()) + 3600
    preview = signed_url(URLS[2], make_settings(**SIGNED), 60)
    assert "/exp:" in preview


async def test_resigning_replaces_the_old_signature_and_expiry(client, make_settings):
    settings = make_settings(**SIGNED)
    once = signed_url(URLS[0], settings, 60)
    twice = signed_url(once, settings, 120)
    assert twice.count("sig=") == 1 and twice.count("exp=") == 1
    assert (await client.get(twice)).status == 200


def test_a_whole_url_keeps_its_scheme_and_host(make_settings):
    signed = signed_url(f"https://img.example.com{URLS[0]}", make_settings(**SIGNED))
    assert signed.startswith(f"https://img.example.com/{BUCKET}/a%20b/photo.jpg?sig=")


@pytest.mark.parametrize(
    "url, env, reason",
    [
        (URLS[0], {}, "SIGNATURE_KEY"),
        (f"/previews/300x,jpeg,q70/{BUCKET}/k.jpg", SIGNED, "legacy"),
        (f"/previews/_/exp:99/plain/{BUCKET}/k.jpg", SIGNED, "expires option"),
        ("/previews/_/w:1/plain/http://example.com/x.jpg", SIGNED, "not a preview URL"),
    ],
)
def test_what_cannot_be_signed_says_why(make_settings, url, env, reason):
    with pytest.raises(CannotSign, match=reason):
        signed_url(url, make_settings(**env), 60 if "exp" in url else None)


def test_the_command_prints_the_signed_url(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "DATA_PATH": str(tmp_path), **SIGNED}
    done = subprocess.run(
        [sys.executable, "-m", "proxy", "sign", URLS[0], "--expires", "1h"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip()
    expiry = urlsplit(printed).query.split("&")[0]
    assert expiry.startswith("exp=")
    settings = parse_settings({"DATA_PATH": str(tmp_path), **SIGNED})
    assert printed == signed_url(f"{URLS[0]}?{expiry}", settings)
    bad = subprocess.run(
        [sys.executable, "-m", "proxy", "sign", URLS[0], "--expires", "soon"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2 and "--expires" in bad.stderr
