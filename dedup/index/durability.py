"""The durability steps of the persistent indexes, and a crash point before each one.

Every index writer calls :func:`checkpoint` right before each step that decides what a crash
leaves behind (a write or append that matters, an fsync, a rename, a commit), so a test can
kill the writer at each such step in turn instead of at random times (a random kill hits a
window of a few instructions once in fifty runs). Unless the environment asks for it, a
checkpoint costs one comparison:

- ``DEDUP_CRASH_AT=k``: the k-th checkpoint of the process (1, 2, ...) kills it, with SIGKILL
  or with the signal ``DEDUP_CRASH_SIGNAL`` names (``KILL``, ``TERM`` or ``INT``: the latter two
  test the Ctrl-C and ``kill`` paths);
- ``DEDUP_CRASH_LOG=FILE``: each checkpoint appends its name to FILE, one per line (how many
  steps an uninterrupted run has, and what they are).

The environment is read once per process (again in a forked child). The steps every index
shares live here too, so there is one copy of each: an atomic file replacement
(:func:`replace_file`), fsyncs of files and directories, and :func:`reserve` (disk space
taken before a file is written through a memory map, where a full disk would be a SIGBUS).
"""

from __future__ import annotations

import errno
import os
import signal
from pathlib import Path
from typing import Optional, Union

from dedup.errors import IndexAccessError

_SIGNALS = {"KILL": getattr(signal, "SIGKILL", signal.SIGTERM), "TERM": signal.SIGTERM, "INT": signal.SIGINT}


class _Crash:
    """What the environment asked for (read on the first checkpoint of a process)."""

    def __init__(self) -> None:
        at = os.environ.get("DEDUP_CRASH_AT", "").strip()
        self.at = int(at) if at else 0
        self.signal = _SIGNALS.get(os.environ.get("DEDUP_CRASH_SIGNAL", "KILL").strip().upper(), _SIGNALS["KILL"])
        log = os.environ.get("DEDUP_CRASH_LOG", "").strip()
        self.log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log else -1
        self.idle = self.at <= 0 and self.log_fd < 0
        self.count = 0


_crash: Optional[_Crash] = None


def checkpoint(name: str) -> None:
    """A durability step named ``name`` comes next (see the module docstring)."""
    crash = _crash if _crash is not None else _read_environment()
    if crash.idle:
        return
    crash.count += 1
    if crash.log_fd >= 0:
        os.write(crash.log_fd, name.encode("utf-8", "replace") + b"\n")
    if crash.count == crash.at:
        os.kill(os.getpid(), crash.signal)


def _read_environment() -> _Crash:
    global _crash
    _crash = _Crash()
    return _crash


def _forget_in_child() -> None:
    """A forked child is another process: it counts its own checkpoints, from its own environment."""
    global _crash
    if _crash is not None and _crash.log_fd >= 0:
        os.close(_crash.log_fd)
    _crash = None


if hasattr(os, "register_at_fork"):  # not on Windows (no fork there either)
    os.register_at_fork(after_in_child=_forget_in_child)


def fsync_file(path: Union[str, os.PathLike]) -> None:
    """Everything written to ``path`` (through ``write`` or a shared memory map) on disk: its data
    and what reading it back needs (``fdatasync``: a file whose space was reserved ahead keeps its
    length, so no inode update is waited for)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        getattr(os, "fdatasync", os.fsync)(fd)  # not on macOS
    finally:
        os.close(fd)


def fsync_directory(directory: Union[str, os.PathLike]) -> None:
    """Make a rename or a new file in ``directory`` durable (where the file system allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):  # file systems that cannot
            raise
    finally:
        os.close(fd)


def replace_file(path: Path, data: bytes, step: str) -> None:
    """``path`` holds ``data`` afterwards, and after a crash at any point either ``data`` or what
    it held before: a temporary file beside it is written and fsynced, renamed over ``path``,
    then the directory is fsynced. A failure removes the temporary file. ``step`` names the
    checkpoints (``step.write``, ``step.fsync``, ``step.rename``, ``step.fsync-dir``)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        checkpoint(f"{step}.write")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            checkpoint(f"{step}.fsync")
            os.fsync(f.fileno())
        checkpoint(f"{step}.rename")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    checkpoint(f"{step}.fsync-dir")
    fsync_directory(path.parent)


#: errno values of a file system without fallocate (tmpfs before 2.6.x, NFSv3, some FUSE mounts).
_NO_FALLOCATE = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL, errno.ENOSYS}
_ZEROS = bytes(1 << 20)


def reserve(fd: int, start: int, end: int, name: str) -> None:
    """Allocate bytes ``[start, end)`` of the open file ``fd`` on disk, extending it.

    A file written through a memory map has no ``write`` call to fail: a full disk arrives as
    SIGBUS and kills the process. So the space is taken first with ``posix_fallocate``. Where
    the file system does not support it, zeros are written over the range instead (which
    allocates the blocks just the same, on every file system that does not compress or
    deduplicate blocks). A full disk raises :class:`IndexAccessError` naming the file; the
    file keeps its old length.
    """
    if end <= start:
        return
    try:
        fallocate = getattr(os, "posix_fallocate", None)  # not on macOS
        if fallocate is not None:
            try:
                fallocate(fd, start, end - start)
                return
            except OSError as exc:
                if exc.errno not in _NO_FALLOCATE:
                    raise
        at = start
        while at < end:
            at += os.pwrite(fd, _ZEROS[:min(len(_ZEROS), end - at)], at)
    except OSError as exc:
        try:
            os.ftruncate(fd, start)
        except OSError:
            pass
        if exc.errno == errno.ENOSPC:
            raise IndexAccessError(f"{name}: no space left on the device (needed {end - start:,} more bytes)") from None
        raise IndexAccessError(f"{name}: {exc.strerror or exc}") from None
