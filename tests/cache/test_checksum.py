import os

from proxy.cache import checksum


def test_incremental_file_and_bytes_agree(tmp_path):
    data = os.urandom(3 << 20)
    path = tmp_path / "f"
    path.write_bytes(data)
    hasher = checksum.Hasher()
    for i in range(0, len(data), 65536):
        hasher.update(data[i : i + 65536])
    fd = os.open(path, os.O_RDONLY)
    try:
        assert hasher.hexdigest() == checksum.of_bytes(data) == checksum.of_file(fd, len(data))
    finally:
        os.close(fd)
    assert checksum.of_bytes(data[:-1] + bytes([data[-1] ^ 1])) != checksum.of_bytes(data)
