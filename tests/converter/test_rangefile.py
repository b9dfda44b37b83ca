import io

import pytest

from proxy.converter.rangefile import MIN_BLOCK, RangeFile, block_size_for

DATA = bytes(range(256)) * 40  # 10240 bytes


class Recorder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.calls: list[tuple[int, int]] = []

    def __call__(self, start: int, end: int) -> bytes:
        self.calls.append((start, end))
        return self.data[start : end + 1]


def test_reads_and_seeks_like_a_file():
    fetch = Recorder(DATA)
    with io.BufferedReader(RangeFile(fetch, len(DATA), 1000, max_blocks=3)) as f:
        assert f.read(10) == DATA[:10]
        f.seek(-5, io.SEEK_END)
        assert f.read() == DATA[-5:]
        f.seek(2990)
        assert f.read(20) == DATA[2990:3010]  # across a block boundary
        assert f.tell() == 3010
        f.seek(len(DATA) + 10)
        assert f.read(5) == b""
    assert all(end - start < 1000 for start, end in fetch.calls)
    assert fetch.calls[-1][1] <= len(DATA) - 1


def test_blocks_are_cached_but_bounded():
    fetch = Recorder(DATA)
    raw = RangeFile(fetch, len(DATA), 1000, max_blocks=2)
    for _ in range(3):
        raw.seek(100)
        raw.read(10)
    assert len(fetch.calls) == 1
    for pos in (1000, 2000, 3000, 100):
        raw.seek(pos)
        raw.read(1)
    assert len(fetch.calls) == 5  # block 0 was evicted by then


def test_short_reads_are_errors():
    raw = RangeFile(lambda start, end: b"xy", len(DATA), 1000)
    with pytest.raises(OSError, match="short read"):
        raw.read(10)


def test_block_size_grows_with_the_object_within_bounds():
    assert block_size_for(1000) == MIN_BLOCK
    assert block_size_for(10**12) == 1024 * 1024
