"""Reading a file of the checked tree, which is untrusted: only a regular file, opened
without blocking (a FIFO named ``models.py`` must not hang the run) and never more than
a bound (``/dev/zero`` behind a symlink must not eat the memory)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Union

_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


class FileTooLarge(OSError):
    def __init__(self, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"{size:,} bytes, over the limit of {limit:,}")
        self.size = size
        self.limit = limit


def read_regular_file(path: Union[str, Path], limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; else
    OSError (``FileTooLarge`` for size, EINVAL for a FIFO, device or folder)."""
    # Looked at before it is opened: opening some devices does something (a watchdog)
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(errno.EINVAL, "not a regular file")
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > limit:
            raise FileTooLarge(info.st_size, limit)
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, max(min(limit + 1 - size, 1 << 24), 1))
            if not chunk:
                break
            size += len(chunk)
            if size > limit:  # grew while read
                raise FileTooLarge(size, limit)
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
