"""Choosing the backend STORAGE_PROVIDER names, importing a remote SDK only when chosen."""

from __future__ import annotations

import subprocess
import sys

import pytest

from proxy.storage import create_storage
from proxy.storage.azure import AzureStorage
from proxy.storage.local import LocalStorage
from proxy.storage.s3 import S3Storage
from tests.storage.conftest import ROOT, remote_env


@pytest.mark.parametrize(
    ("provider", "cls"),
    [("http", LocalStorage), ("minio", S3Storage), ("azure", AzureStorage)],
)
def test_each_provider_gets_its_backend(make_settings, provider, cls):
    env = {"STORAGE_BUCKETS": "abc-public"}
    if provider != "http":
        env = remote_env(provider, "http://127.0.0.1:9", "abc-public")
    storage = create_storage(make_settings(**env).storage)
    assert type(storage) is cls
    assert storage.has_bucket("abc-public") and not storage.has_bucket("abc-ghost")


def test_the_local_provider_imports_no_cloud_sdk(tmp_path):
    script = (
        "import sys\n"
        "from proxy.settings import parse_settings\n"
        "from proxy.storage import create_storage\n"
        f"s = create_storage(parse_settings({{'DATA_PATH': {str(tmp_path)!r}}}).storage)\n"
        "print(s.provider, sorted(m for m in sys.modules\n"
        "    if m.split('.')[0] in ('aiobotocore', 'botocore', 'azure')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.split(" ", 1) == ["http", "[]\n"]
