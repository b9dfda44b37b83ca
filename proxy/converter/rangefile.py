"""A seekable, read-only file over ranged storage reads, for decoders that need a file.

FFmpeg reads a video's index and then only the packets it decodes, so a frame from a large
uncached video costs a few ranged reads instead of a download. The render process asks the
server for each missing block (the server reads the store) and waits for it.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

MIN_BLOCK = 64 * 1024
MAX_BLOCK = 1024 * 1024
MAX_BLOCKS = 16

Fetch = Callable[[int, int], bytes]  # (start, end inclusive) -> those bytes


def block_size_for(size: int) -> int:
    """Small objects get small blocks (a frame reads little); large ones fewer round trips."""
    return max(MIN_BLOCK, min(MAX_BLOCK, size // 256))


class RangeFile(io.RawIOBase):
    def __init__(self, fetch: Fetch, size: int, block_size: int, max_blocks: int = MAX_BLOCKS):
        super().__init__()
        self._fetch = fetch
        self.size = size
        self.block_size = block_size
        self.max_blocks = max_blocks
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        self._failed = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._failed or self._pos >= self.size or len(view) == 0:
            # After a failure, end of file: FFmpeg stops, and PyAV raises the first error.
            return 0
        index, offset = divmod(self._pos, self.block_size)
        try:
            block = self._block(index)
        except BaseException:
            self._failed = True
            raise
        count = min(len(view), len(block) - offset)
        view[:count] = block[offset : offset + count]
        self._pos += count
        return count

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is not None:
            self._blocks.move_to_end(index)
            return block
        start = index * self.block_size
        end = min(start + self.block_size, self.size) - 1
        block = self._fetch(start, end)
        if len(block) != end - start + 1:
            raise OSError(f"short read at {start}: {len(block)} of {end - start + 1} bytes")
        self._blocks[index] = block
        if len(self._blocks) > self.max_blocks:
            self._blocks.popitem(last=False)
        return block
