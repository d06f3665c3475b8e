"""Where a responses file is: a local path, or a URL of object storage (``s3://``, ``gs://``, ``abfs://``,
``memory://``...) that the Dask engine reads through fsspec (the filesystem's own package, such as s3fs,
must be installed). The local engine reads local files only."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import IO, Any

from profiler.batch.options import BatchError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

Location = str | Path


def is_url(location: Location) -> bool:
    """Whether ``location`` is a URL (``scheme://...``) rather than a local path."""
    return isinstance(location, str) and bool(_URL.match(location))


def as_location(location: Location) -> Location:
    """A URL kept as text (``Path`` would fold its ``//``), anything else as a ``Path``."""
    return location if is_url(location) else Path(location)


def suffix(location: Location) -> str:
    """The file name's extension, lower case (``.csv``, ``.parquet``)."""
    return PurePosixPath(str(location)).suffix.lower() if is_url(location) else Path(location).suffix.lower()


def _filesystem(url: str) -> tuple[Any, str]:
    import fsspec

    try:
        return fsspec.core.url_to_fs(url)
    except (ImportError, ValueError) as exc:  # an unknown scheme, or its package (s3fs...) not installed
        raise BatchError(f"cannot read {url}: {exc}") from None


def check_source(location: Location) -> None:
    """Refuse a responses file that does not exist or is not a regular file (never read a directory, a pipe or a
    device)."""
    if is_url(location):
        fs, path = _filesystem(str(location))
        if not fs.exists(path):
            raise BatchError(f"no such file: {location}")
        if not fs.isfile(path):
            raise BatchError(f"{location} is not a file: give the URL of a CSV or Parquet file")
        return
    path = Path(location)
    if not path.exists():
        raise BatchError(f"no such file: {path}")
    if not path.is_file():  # a directory, a named pipe, a device such as /dev/zero: refused, never read
        raise BatchError(f"{path} is not a regular file: give the path of a CSV or Parquet file")


def open_source(location: Location) -> IO[bytes]:
    """The file opened for reading bytes."""
    if is_url(location):
        fs, path = _filesystem(str(location))
        return fs.open(path, "rb")
    return open(location, "rb")


def source_size(location: Location) -> int:
    """The file's size in bytes (0 when it cannot be told)."""
    try:
        if is_url(location):
            fs, path = _filesystem(str(location))
            return int(fs.size(path) or 0)
        return Path(location).stat().st_size
    except (OSError, BatchError):
        return 0


__all__ = ["Location", "as_location", "check_source", "is_url", "open_source", "source_size", "suffix"]
