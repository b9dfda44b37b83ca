"""The sample a fresh checkout shows: a real JPEG written once, and paths that all answer."""

from __future__ import annotations

import pyvips

from proxy.demo import SAMPLE_BUCKET, SAMPLE_KEY, make_sample_jpeg, seed_sample
from proxy.settings import parse_settings
from proxy.sniff import sniff


def test_the_sample_is_a_jpeg_of_the_size_asked():
    body = make_sample_jpeg(320, 200)
    assert sniff(body).kind == "jpeg"
    image = pyvips.Image.new_from_buffer(body, "")
    assert (image.width, image.height, image.bands) == (320, 200, 3)


def test_the_sample_is_written_once(make_settings, data_path):
    target = data_path / "storage" / SAMPLE_BUCKET / SAMPLE_KEY
    seed_sample(make_settings())
    assert sniff(target.read_bytes()).kind == "jpeg"
    target.write_bytes(b"an operator's own sample")
    seed_sample(make_settings())
    assert target.read_bytes() == b"an operator's own sample"


def test_a_remote_store_is_left_alone(tmp_path):
    settings = parse_settings(
        {
            "DATA_PATH": str(tmp_path),
            "STORAGE_PROVIDER": "minio",
            "STORAGE_BUCKETS": SAMPLE_BUCKET,
            "STORAGE_IAM_ROLE": "reader",
        }
    )
    paths = seed_sample(settings)
    assert not any(tmp_path.iterdir())
    assert paths[0] == f"/{SAMPLE_BUCKET}/{SAMPLE_KEY}"


async def test_every_path_worth_opening_answers(make_settings, make_client):
    paths = seed_sample(make_settings())
    assert len(paths) == 7
    # The sample's folder is a bucket now, as a fresh checkout's would be.
    settings = make_settings()
    assert SAMPLE_BUCKET in settings.storage.buckets
    client = await make_client(settings)
    for path in paths:
        response = await client.get(path)
        body = await response.read()
        assert response.status == 200, (path, body[:200])
        if "/health" not in path and "/metrics" not in path:
            assert response.content_type.startswith("image/"), path
            assert sniff(body).mime == response.content_type, path
