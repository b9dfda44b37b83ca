"""The S3 provider's endpoint forms; its behaviour is in test_contract and test_failures."""

from __future__ import annotations

import pytest

from proxy.storage.s3 import endpoint_url, header_range, is_aws


@pytest.mark.parametrize(
    ("endpoint", "port", "url"),
    [
        ("s3.amazonaws.com", "443", "https://s3.amazonaws.com:443"),
        ("s3.amazonaws.com", "", "https://s3.amazonaws.com"),
        ("minio.internal", "9000", "http://minio.internal:9000"),
        ("minio.internal:9000", "", "http://minio.internal:9000"),
        ("minio.internal:443", "", "https://minio.internal:443"),
        ("http://127.0.0.1:9000/", "", "http://127.0.0.1:9000"),
        ("https://minio.example.com", "8443", "https://minio.example.com:8443"),
        ("", "", "https://s3.us-east-1.amazonaws.com"),  # AWS S3, said out loud
    ],
)
def test_endpoint_url(make_settings, endpoint, port, url):
    env = {
        "STORAGE_PROVIDER": "minio",
        "STORAGE_BUCKETS": "abc-public",
        "STORAGE_ACCESS_KEY": "k",
        "STORAGE_SECRET_KEY": "s",
        "STORAGE_ENDPOINT": endpoint,
        "STORAGE_PORT": port,
    }
    assert endpoint_url(make_settings(**env).storage) == url


def test_the_default_endpoint_is_the_regions(make_settings):
    env = {
        "STORAGE_PROVIDER": "minio",
        "STORAGE_BUCKETS": "abc-public",
        "STORAGE_REGION": "eu-central-1",
    }
    settings = make_settings(**env, STORAGE_ACCESS_KEY="k", STORAGE_SECRET_KEY="s")
    assert settings.storage.endpoint_is_default
    assert endpoint_url(settings.storage) == "https://s3.eu-central-1.amazonaws.com"


def test_path_style_only_off_aws():
    assert is_aws("https://s3.amazonaws.com") and is_aws("https://s3.eu-west-1.amazonaws.com")
    assert not is_aws("http://127.0.0.1:9000")


def test_header_range():
    assert header_range(None) is None
    assert header_range((5, 9)) == "bytes=5-9"
    assert header_range((5, None)) == "bytes=5-"
    assert header_range((-7, None)) == "bytes=-7"
