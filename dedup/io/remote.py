"""Inputs and outputs where the data lives: ``s3://``, ``gs://``, ``hf://``, ``memory://``...

Through fsspec (the ``remote`` extra; each store also needs its own fsspec backend, such as
s3fs or gcsfs). A URL input is read as a stream (compression by magic bytes, as local files);
a glob in a URL (``s3://bucket/part-*.jsonl.gz``) is expanded by the store, in sorted order.
A URL output is written to a local temporary file and uploaded in one piece when the run
succeeds (object stores replace an object whole, so readers never see half of one); a failed
run uploads nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from typing import Any, BinaryIO, List, Tuple

from dedup._optional import require

#: ``scheme://`` at the start of a path; schemes of persistent indexes are not files.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NOT_FILES = ("redis", "rediss", "unix")


def is_url(path: str) -> bool:
    """Whether ``path`` names data through fsspec (a URL other than a Redis index)."""
    match = _URL.match(path)
    return match is not None and match.group(0)[:-3].lower() not in _NOT_FILES


def local_path(path: str) -> str:
    """The file a path or a URL of the local file system names (``file:///x/in.jsonl`` -> ``/x/in.jsonl``,
    as fsspec resolves it); anything else as it is. For the checks that keep outputs off inputs."""
    match = _URL.match(path)
    if match is None or match.group(0)[:-3].lower() not in ("file", "local"):
        return path
    try:
        from fsspec.implementations.local import LocalFileSystem
    except ImportError:  # the URL cannot be read or written without fsspec either; the path is plain
        rest = path[match.end():]
        return rest[len("localhost"):] if rest.startswith("localhost/") else rest
    return str(LocalFileSystem._strip_protocol(path))


def _fsspec(path: str) -> Any:
    return require("fsspec", "remote", f"{path}: reading or writing a URL")


def filesystem(url: str) -> Tuple[Any, str]:
    """(fsspec filesystem, path inside it) of ``url``."""
    _fsspec(url)
    from fsspec.core import url_to_fs
    fs, path = url_to_fs(url)
    return fs, path


def expand(url: str) -> List[str]:
    """The URLs a glob names, sorted (the URL itself when it has no glob characters)."""
    if not any(c in url for c in "*?["):
        return [url]
    fs, path = filesystem(url)
    protocol = url.split("://", 1)[0]
    return [f"{protocol}://{p.split('://', 1)[-1]}" for p in sorted(fs.glob(path))]


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return bool(fs.exists(path))


def open_remote(url: str) -> BinaryIO:
    """A binary stream of the object's bytes (as stored: decompression is the caller's)."""
    fs, path = filesystem(url)
    try:
        return fs.open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(2, "no such file", url) from None


class RemoteUpload:
    """A local temporary file that becomes the object at ``url`` on :meth:`upload`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.fs, self.path = filesystem(url)
        fd, self.local = tempfile.mkstemp(prefix=".dedup-upload.", suffix=".tmp")
        os.close(fd)

    def upload(self) -> None:
        self.fs.put_file(self.local, self.path)
        self.discard()

    def discard(self) -> None:
        try:
            os.unlink(self.local)
        except OSError:
            pass
