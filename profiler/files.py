"""Reading a file a user names, bounded: regular files only, never more than a limit, nothing that can hang.

Shared by every reader of user documents (YAML questionnaires and job models, the groups file of a fairness
audit), so that ``/dev/zero``, a named pipe, a directory or a file far too large gets a clear error at once.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


def read_capped(path: Path, limit: int, error: Callable[[str], Exception]) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ``error(message)`` makes the exception to raise.

    The file is opened without blocking and checked to be a regular file before anything is read, so that a
    named pipe, a device such as /dev/zero or a directory is refused at once instead of hanging or filling
    memory; then at most ``limit + 1`` bytes are read (the size the file system reports is not trusted).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except IsADirectoryError:
        raise error("is a directory, not a file") from None
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}") from None
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            kind = ("a directory" if stat.S_ISDIR(mode) else "a named pipe" if stat.S_ISFIFO(mode) else
                    "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode)
                    else "not a regular file")
            raise error(f"is {kind}, not a regular file: give the path of a file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    if size > limit:
        raise error(f"file is too large: the limit is {limit:,} bytes")
    return b"".join(chunks)


__all__ = ["read_capped"]
