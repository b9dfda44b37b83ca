"""Shared fixtures: settings over a temporary DATA_PATH, the app under test, real images."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from proxy.services import build_services
from proxy.settings import Settings, parse_settings
from proxy.web.app import create_app
from tests.tiers import pytest_collection_modifyitems  # noqa: F401 - markers by what tests use

# Nothing in the tests may reach a real cloud metadata service.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
# Render processes started by the tests honour the test-only sources that hold, spin, eat
# memory or crash (proxy/jobs/child.py); a deployment never sets this.
os.environ["PROXY_JOB_TEST_HOOKS"] = "1"

BUCKET = "abc-public"


@pytest.fixture
def data_path(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    (path / "storage" / BUCKET).mkdir(parents=True)
    (path / "storage" / "abc-private").mkdir(parents=True)
    return path


@pytest.fixture
def make_settings(data_path: Path) -> Callable[..., Settings]:
    """Settings for the local provider over `data_path`; keyword args override env values."""

    def make(**env: str) -> Settings:
        # One render at a time (a slot and the spare: two render processes, not one more per
        # core): each process an app starts costs a quarter of a second of CPU, which across
        # the suite is most of its time. Tests of concurrency say how much they want.
        values = {
            "DATA_PATH": str(data_path),
            "ACCESS_LOG": "off",
            "STORAGE_RETRIES": "0",
            "PREVIEWS_CONCURRENCY": "1",
        }
        values.update(env)
        return parse_settings(values)

    return make


@pytest.fixture
def put_file(data_path: Path) -> Callable[..., Path]:
    """Write an object into local storage: put_file("images/a.jpg", b"...")."""

    def put(key: str, body: bytes, bucket: str = BUCKET) -> Path:
        path = data_path / "storage" / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        return path

    return put


@pytest.fixture
async def make_client(aiohttp_client) -> Callable[..., TestClient]:  # type: ignore[no-untyped-def]
    """Start the real app (with its caches and storage) on a loopback port."""

    async def make(settings: Settings, storage=None) -> TestClient:  # type: ignore[no-untyped-def]
        return await aiohttp_client(create_app(build_services(settings, storage)))

    return make


@pytest.fixture
async def client(make_client, make_settings) -> TestClient:  # type: ignore[no-untyped-def]
    return await make_client(make_settings())


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` in Prometheus text whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


async def read_metric(client: TestClient, name: str, **labels: str) -> float:
    response = await client.get("/metrics")
    return metric_value(await response.text(), name, **labels)


@pytest.fixture(scope="session")
def jpeg_bytes() -> bytes:
    return encode_image(640, 480, ".jpg")


def encode_image(width: int, height: int, suffix: str = ".jpg", **options: object) -> bytes:
    """A real encoded image with photographic-ish content (gradients and noise)."""
    import pyvips

    x = pyvips.Image.xyz(width, height)
    r = x[0] * 255 / max(width, 1)
    g = x[1] * 255 / max(height, 1)
    noise = pyvips.Image.gaussnoise(width, height, sigma=20, mean=128)
    image = r.bandjoin([g, noise]).cast("uchar").copy(interpretation="srgb")
    return image.write_to_buffer(suffix, **options)


@pytest.fixture(autouse=True)
def _no_leaked_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A developer's ./.env must not change what the tests see.
    monkeypatch.chdir(Path(__file__).parent)
    yield
