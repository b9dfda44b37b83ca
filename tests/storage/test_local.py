import os

import pytest

from proxy.settings import parse_settings
from proxy.storage.errors import InvalidKey, ObjectMissing
from proxy.storage.local import LocalStorage
from proxy.storage.ranges import RangeNotSatisfiable


@pytest.fixture
def storage(data_path):
    return LocalStorage(parse_settings({"DATA_PATH": str(data_path)}).storage)


async def read_all(stream):
    async with stream:
        return b"".join([chunk async for chunk in stream])


async def test_reads_whole_objects_and_ranges(storage, put_file):
    body = os.urandom(700_000)
    put_file("v/big.bin", body)
    stream = await storage.open("abc-public", "v/big.bin")
    assert stream.info.size == len(body)
    assert await read_all(stream) == body
    stream = await storage.open("abc-public", "v/big.bin", (10, 19))
    assert (stream.start, stream.length) == (10, 10)
    assert await read_all(stream) == body[10:20]
    assert await read_all(await storage.open("abc-public", "v/big.bin", (-5, None))) == body[-5:]
    assert (
        await read_all(await storage.open("abc-public", "v/big.bin", (699_990, None)))
        == body[699_990:]
    )
    with pytest.raises(RangeNotSatisfiable):
        await storage.open("abc-public", "v/big.bin", (len(body), None))


async def test_head_gives_type_size_etag_and_time(storage, put_file):
    path = put_file("a/photo.jpg", b"12345")
    info = await storage.head("abc-public", "a/photo.jpg")
    assert info.size == 5
    assert info.content_type == "image/jpeg"
    assert info.last_modified == pytest.approx(path.stat().st_mtime)
    path.write_bytes(b"123456")
    assert (await storage.head("abc-public", "a/photo.jpg")).etag != info.etag


async def test_missing_objects_buckets_and_directories(storage, put_file):
    put_file("dir/file.txt", b"x")
    for bucket, key in [
        ("abc-public", "nope"),
        ("abc-public", "dir"),
        ("elsewhere", "dir/file.txt"),
    ]:
        with pytest.raises(ObjectMissing):
            await storage.open(bucket, key)
        with pytest.raises(ObjectMissing):
            await storage.head(bucket, key)


async def test_symlinks_out_of_the_bucket_are_not_followed(storage, data_path, put_file, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os.symlink(secret, data_path / "storage" / "abc-public" / "leak.txt")
    os.symlink(
        data_path / "storage" / "abc-private", data_path / "storage" / "abc-public" / "other"
    )
    put_file("inside.txt", b"fine", bucket="abc-private")
    with pytest.raises(ObjectMissing):
        await storage.open("abc-public", "leak.txt")
    with pytest.raises(ObjectMissing):
        await storage.open("abc-public", "other/inside.txt")
    # A link that stays inside its bucket is an ordinary alias.
    put_file("real.txt", b"real")
    os.symlink("real.txt", data_path / "storage" / "abc-public" / "alias.txt")
    assert await read_all(await storage.open("abc-public", "alias.txt")) == b"real"


async def test_traversal_keys_are_invalid(storage):
    for key in ("../abc-private/x", "a/../../etc/passwd", "a\\..\\b"):
        with pytest.raises(InvalidKey):
            await storage.open("abc-public", key)


async def test_probe_reports_missing_folders(data_path):
    settings = parse_settings({"DATA_PATH": str(data_path), "STORAGE_BUCKETS": "abc-public,gone"})
    problems = await LocalStorage(settings.storage).probe()
    assert len(problems) == 1
    assert "gone" in problems[0] and "bucket missing" in problems[0]


async def test_list_and_put_for_migration(storage, put_file, tmp_path):
    put_file("a/1.txt", b"1")
    put_file("b/2.txt", b"22")
    assert [k async for k in storage.list_keys("abc-public")] == [("a/1.txt", 1), ("b/2.txt", 2)]
    source = tmp_path / "src.bin"
    source.write_bytes(b"payload")
    await storage.put("abc-private", "c/3.bin", source, None)
    assert await read_all(await storage.open("abc-private", "c/3.bin")) == b"payload"
