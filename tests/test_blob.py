"""An encoded source as decoders see it: the same bytes from a file on disk or from memory."""

from __future__ import annotations

from pathlib import Path

from proxy.blob import Blob
from tests.conftest import encode_image


def test_bytes_and_file_give_the_same_source(tmp_path: Path):
    body = encode_image(16, 8, ".png")
    path = tmp_path / "source.png"
    path.write_bytes(body)
    for blob in (Blob.of_bytes(body), Blob.of_file(path, len(body))):
        assert blob.size == len(body)
        assert blob.read() == body
        assert blob.head(8) == b"\x89PNG\r\n\x1a\n"
        assert blob.head(len(body) + 100) == body
        with blob.open() as fh:
            assert fh.read() == body


def test_each_open_is_a_reader_of_its_own(tmp_path: Path):
    path = tmp_path / "b"
    path.write_bytes(b"0123456789")
    for blob in (Blob.of_bytes(b"0123456789"), Blob.of_file(path, 10)):
        with blob.open() as one, blob.open() as two:
            assert one.read(4) == b"0123"
            assert two.read(2) == b"01"
            one.close()
            assert two.read() == b"23456789"  # closing one reader leaves the other


def test_a_file_blob_reads_the_file_when_asked(tmp_path: Path):
    path = tmp_path / "b"
    path.write_bytes(b"first")
    blob = Blob.of_file(path, 5)
    assert (blob.body, blob.path) == (None, path)
    path.write_bytes(b"again")
    assert blob.read() == b"again"
    assert blob.head(2) == b"ag"
