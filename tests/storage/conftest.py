"""Real storage servers on loopback (moto's S3 server, Azurite) and one `store` per provider.

The servers are started once per session and only when a test asks for them. Nothing here
skips: a missing server binary fails the run with a message that says how to install it.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from proxy.settings import Settings
from tests.server_process import free_port

ROOT = Path(__file__).resolve().parents[2]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite-blob"
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
S3_KEY_ID = "testing"
S3_SECRET = "testing-secret"
PROVIDERS = ("http", "minio", "azure")


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)


def start_server(
    name: str, argv: list[str], port: int, env: dict[str, str] | None = None
) -> Server:
    log = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
    with open(log, "wb") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{name} exited at start:\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(server.url + "/", timeout=2).close()
            return server
        except urllib.error.HTTPError:
            return server  # any HTTP answer means it is listening
        except OSError:
            time.sleep(0.1)
    tail = log.read_text()[-2000:]
    server.stop()
    pytest.fail(f"{name} did not answer on port {port} within 60s:\n{tail}")


def start_moto(env: dict[str, str] | None = None) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    return start_server("moto", argv, port, env)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[Server]:
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_auth_server() -> Iterator[Server]:
    """A second moto whose IAM authentication is switched on once the test set-up is done."""
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[Server]:
    if not AZURITE.exists() or shutil.which("node") is None:
        pytest.fail(f"Azurite is missing: run `npm install` in {ROOT} (needs node and npm)")
    location = tempfile.mkdtemp(prefix="azurite-")
    port = free_port()
    argv = [
        str(AZURITE),
        "--skipApiVersionCheck",
        "--loose",
        "--disableTelemetry",
        "--silent",
        "--location",
        location,
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
    ]
    server = start_server("azurite", argv, port)
    yield server
    server.stop()
    shutil.rmtree(location, ignore_errors=True)


def s3_client(endpoint: str, key_id: str = S3_KEY_ID, secret: str = S3_SECRET, **kwargs):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        **kwargs,
    )


def azure_service(endpoint: str):  # type: ignore[no-untyped-def]
    from azure.storage.blob import BlobServiceClient

    return BlobServiceClient(
        endpoint, credential={"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY}
    )


def unique_bucket(kind: str = "public") -> str:
    return f"t{secrets.token_hex(5)}-{kind}"


@dataclass
class Store:
    """One provider as the tests see it: settings for the app, and a way to upload objects."""

    provider: str
    bucket: str
    ghost: str  # configured for the proxy, missing at the store
    env: dict[str, str]
    make_settings: Callable[..., Settings]
    data_path: Path
    endpoint: str = ""
    extra_buckets: list[str] = field(default_factory=list)

    def settings(self, **env: str) -> Settings:
        return self.make_settings(**{**self.env, **env})

    def put(self, key: str, body: bytes, bucket: str | None = None) -> None:
        bucket = bucket or self.bucket
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        if self.provider == "http":
            path = self.data_path / "storage" / bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
        elif self.provider == "minio":
            s3_client(self.endpoint).put_object(
                Bucket=bucket, Key=key, Body=body, ContentType=content_type
            )
        else:
            from azure.storage.blob import ContentSettings

            azure_service(self.endpoint).get_blob_client(bucket, key).upload_blob(
                body, overwrite=True, content_settings=ContentSettings(content_type=content_type)
            )

    def delete(self, key: str, bucket: str | None = None) -> None:
        bucket = bucket or self.bucket
        if self.provider == "http":
            (self.data_path / "storage" / bucket / key).unlink()
        elif self.provider == "minio":
            s3_client(self.endpoint).delete_object(Bucket=bucket, Key=key)
        else:
            azure_service(self.endpoint).get_blob_client(bucket, key).delete_blob()

    def get(self, key: str, bucket: str | None = None) -> tuple[bytes, str | None]:
        """The object's bytes and content type, read around the proxy."""
        bucket = bucket or self.bucket
        if self.provider == "http":
            return (self.data_path / "storage" / bucket / key).read_bytes(), None
        if self.provider == "minio":
            answer = s3_client(self.endpoint).get_object(Bucket=bucket, Key=key)
            return answer["Body"].read(), answer["ContentType"]
        download = azure_service(self.endpoint).get_blob_client(bucket, key).download_blob()
        return download.readall(), download.properties.content_settings.content_type

    def keys(self, bucket: str | None = None) -> set[str]:
        bucket = bucket or self.bucket
        if self.provider == "minio":
            listed = s3_client(self.endpoint).list_objects_v2(Bucket=bucket)
            return {item["Key"] for item in listed.get("Contents", [])}
        container = azure_service(self.endpoint).get_container_client(bucket)
        return {blob.name for blob in container.list_blobs()}

    def create_bucket(self, bucket: str) -> None:
        if self.provider == "http":
            (self.data_path / "storage" / bucket).mkdir(parents=True, exist_ok=True)
        elif self.provider == "minio":
            s3_client(self.endpoint).create_bucket(Bucket=bucket)
        else:
            azure_service(self.endpoint).create_container(bucket)


def remote_env(provider: str, endpoint: str, buckets: str) -> dict[str, str]:
    if provider == "minio":
        keys = {"STORAGE_ACCESS_KEY": S3_KEY_ID, "STORAGE_SECRET_KEY": S3_SECRET}
    else:
        keys = {"STORAGE_ACCESS_KEY": AZURITE_ACCOUNT, "STORAGE_SECRET_KEY": AZURITE_KEY}
    return {
        "STORAGE_PROVIDER": provider,
        "STORAGE_ENDPOINT": endpoint,
        "STORAGE_BUCKETS": buckets,
        **keys,
    }


def make_store(
    provider: str, request: pytest.FixtureRequest, make_settings, data_path: Path
) -> Store:  # type: ignore[no-untyped-def]
    if provider == "http":
        return Store(
            provider,
            "abc-public",
            "abc-ghost",
            {"STORAGE_BUCKETS": "abc-public,abc-ghost"},
            make_settings,
            data_path,
        )
    if provider == "minio":
        endpoint = request.getfixturevalue("moto_server").url
    else:
        endpoint = request.getfixturevalue("azurite_server").url + "/" + AZURITE_ACCOUNT
    bucket, ghost = unique_bucket(), unique_bucket("ghost")
    store = Store(
        provider,
        bucket,
        ghost,
        remote_env(provider, endpoint, f"{bucket},{ghost}"),
        make_settings,
        data_path,
        endpoint,
    )
    store.create_bucket(bucket)
    return store


@pytest.fixture(params=PROVIDERS)
def store(request, make_settings, data_path) -> Store:  # type: ignore[no-untyped-def]
    return make_store(request.param, request, make_settings, data_path)


@pytest.fixture(params=("minio", "azure"))
def remote_store(request, make_settings, data_path) -> Store:  # type: ignore[no-untyped-def]
    return make_store(request.param, request, make_settings, data_path)


def endpoint_at(store, port: int) -> str:  # type: ignore[no-untyped-def]
    """The store's endpoint with another port: a relay in front of it, or nothing at all."""
    parts = urlsplit(store.endpoint)
    return f"{parts.scheme}://127.0.0.1:{port}{parts.path}"


class Forwarder:
    """A TCP relay in front of a real server, so a test can cut the store off mid-run."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.blackhole = False  # accept, then never answer: a store that hangs
        self.fail_next = 0  # answer this many connections with a 503, as a store in trouble
        self.reset_next = 0  # reset this many connections once the request arrives
        self.cut_after: int | None = None  # cut a connection after this many answer bytes
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> Forwarder:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self.blackhole:
            return
        if self.reset_next > 0:
            self.reset_next -= 1
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                await reader.readuntil(b"\r\n\r\n")
            writer.transport.abort()
            return
        if self.fail_next > 0:
            self.fail_next -= 1
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                await reader.readuntil(b"\r\n\r\n")
                writer.write(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
                await writer.drain()
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self._writers.add(up_writer)

        async def pipe(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, limit: int | None = None
        ) -> None:
            sent = 0
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if limit is not None and sent + len(data) > limit:
                        dst.write(data[: limit - sent])
                        await dst.drain()
                        dst.transport.abort()  # the store dies mid-answer
                        up_writer.transport.abort()
                        return
                    sent += len(data)
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer, limit=self.cut_after))

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones, as a store that went away."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()
        self._writers.clear()
