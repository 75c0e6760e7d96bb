"""Bytes in and out: transparent (de)compression, stdin/stdout, atomic output files.

Input compression is recognised by its magic bytes (so ``-`` on stdin works too);
output compression follows the output's suffix. Output goes to a temporary file in the
target's directory and is renamed over the target only when the run succeeds, so an
interrupted run never leaves a half-written file that looks complete.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, List, Optional, Sequence, Tuple

from dedup._optional import require
from dedup.errors import DamagedInputError
from dedup.io.remote import RemoteUpload, is_url, local_path, open_remote

STDIO = "-"

#: Output suffix -> compression.
COMPRESSION_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2", ".xz": "xz"}

_MAGIC = [
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
]


def strip_compression(name: str) -> tuple[str, Optional[str]]:
    """``("data.jsonl", "gzip")`` for ``"data.jsonl.gz"``; the compression from the suffix."""
    lower = name.lower()
    for suffix, kind in COMPRESSION_SUFFIXES.items():
        if lower.endswith(suffix):
            return name[: -len(suffix)], kind
    return name, None


def open_input(path: str, count: Optional[Callable[[int], None]] = None) -> BinaryIO:
    """A buffered binary stream of the decompressed bytes of ``path`` (``-``: stdin; a URL
    through fsspec, see :mod:`dedup.io.remote`). ``count(n)`` is told of every ``n`` bytes
    read from a local file, as stored (compressed): how far a progress bar has come."""
    raw: BinaryIO
    if path == STDIO:
        raw = sys.stdin.buffer
    elif is_url(path):
        raw = open_remote(path)
    elif count is not None:
        raw = io.BufferedReader(_Counted(open(path, "rb", buffering=0), count), 1 << 16)  # type: ignore[arg-type]
    else:
        raw = open(path, "rb")
    buffered: Any = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[type-var]
    head = buffered.peek(8)[:8]
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return _decompressor(buffered, kind, path)
    return buffered


class _Counted(io.RawIOBase):
    """A file whose reads are counted (``count(n)`` after each)."""

    def __init__(self, raw: Any, count: Callable[[int], None]) -> None:
        self._raw = raw
        self._count = count

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._count(n)
        return n

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def _decompressor(raw: BinaryIO, kind: str, path: str) -> BinaryIO:
    """The decompressed stream; a truncated or corrupt archive raises :class:`DamagedInputError`
    naming the file, never an early end that would pass for the last record."""
    inner: Any
    if kind == "gzip":
        inner = gzip.GzipFile(fileobj=raw, mode="rb")
    elif kind == "zstd":
        zstandard = require("zstandard", "zstd", f"{path}: reading zstd-compressed input")
        inner = _ZstdFrames(raw, zstandard)
    elif kind == "bz2":
        import bz2
        inner = bz2.BZ2File(raw, "rb")
    else:
        import lzma
        inner = lzma.LZMAFile(raw, "rb")
    return io.BufferedReader(_Checked(inner, kind, display(path)), buffer_size=1 << 16)  # type: ignore[arg-type]


class _Checked(io.RawIOBase):
    """A decompressed stream whose damage becomes one :class:`DamagedInputError` naming the file."""

    def __init__(self, inner: Any, kind: str, name: str) -> None:
        self._inner = inner
        self._kind = kind
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            return self._inner.readinto(buffer)
        except EOFError:
            raise DamagedInputError(f"{self._name}: truncated {self._kind} stream") from None
        except DamagedInputError:
            raise
        except Exception as exc:  # zlib.error, OSError("Invalid data stream"), LZMAError, ZstdError
            if isinstance(exc, OSError) and exc.errno is not None:
                raise  # a real I/O error of the file (it names the file itself)
            raise DamagedInputError(f"{self._name}: corrupt {self._kind} stream ({exc})") from None

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


class _ZstdFrames(io.RawIOBase):
    """zstd frames one after another, each required to end: a stream cut inside a frame is
    truncated (zstandard's own reader returns what it has and stops quietly)."""

    def __init__(self, raw: BinaryIO, zstandard: Any) -> None:
        self._raw = raw
        self._zstd = zstandard
        self._dobj: Any = None  # the frame being decompressed; None between frames
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                if self._dobj is not None:
                    raise EOFError("zstd frame not finished")
                return 0
            while chunk:
                if self._dobj is None:
                    self._dobj = self._zstd.ZstdDecompressor().decompressobj()
                self._pending += self._dobj.decompress(chunk)
                chunk = b""
                if self._dobj.eof:
                    chunk = self._dobj.unused_data
                    self._dobj = None
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


def target_problem(targets: Sequence[Tuple[str, str]], inputs: Sequence[str],
                   made_here: Sequence[str] = ()) -> Optional[str]:
    """Why these outputs (``(what, path)``; ``-`` is stdout) cannot be written, or None.

    The one check every command that writes makes: an output never replaces an input (through
    links and other spellings, and stdout redirected onto an input file, as ``cat`` refuses
    ``cat a >> a``), two outputs never share a file, at most one goes to stdout, and each
    one's directory exists (unless its ``what`` is in ``made_here``: a directory the command makes).
    """
    for name, path in targets:
        parent = os.path.dirname(os.path.abspath(path))
        if path != STDIO and not is_url(path) and name not in made_here and not os.path.isdir(parent):
            return f"the {name} {path} is in a directory that does not exist: {parent}"
    if sum(path == STDIO for _, path in targets) > 1:
        return "only one of the outputs can go to stdout"
    for name, path in targets:
        for source in inputs:
            if path == STDIO and _stdout_is(source):
                return f"refusing to write the {name} (stdout) onto the input {source}"
            if same_file(path, source):
                return f"refusing to write the {name} over the input {source}"
    for i, (name, path) in enumerate(targets):
        for other, other_path in targets[i + 1:]:
            if path != STDIO and not _written_through(path) and same_file(path, other_path):
                return f"the {name} and the {other} are the same file: {path}"
    return None


def _stdout_is(path: str) -> bool:
    """Whether stdout is redirected onto the regular file ``path`` (``dedup a >> a``)."""
    path = local_path(path)
    if path == STDIO or is_url(path):
        return False
    try:
        out = os.fstat(sys.stdout.fileno())
        where = os.stat(path)
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISREG(out.st_mode) and (out.st_dev, out.st_ino) == (where.st_dev, where.st_ino)


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file (existing or not; a ``file://`` URL is its path);
    ``-`` is never a file."""
    a, b = local_path(a), local_path(b)
    if STDIO in (a, b):
        return False
    if is_url(a) or is_url(b):
        return a == b
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


class AtomicOutput:
    """A binary output that appears under its name only on :meth:`commit`.

    A regular file (new or existing, or the file a symlink points to) is written to a
    temporary file beside it (same directory, so the final rename is atomic) through the
    compressor its suffix asks for. Anything else (``-``: stdout, ``/dev/null``, a FIFO, a
    terminal, ``>(gzip > x)``, ``/dev/stdout``) is written straight through: renaming over
    it would replace a device or a pipe with a regular file. Errors name the target, never
    the temporary file, and :meth:`abort` never fails.
    """

    def __init__(self, path: str, compress: bool = True) -> None:
        self.path = path
        self._tmp: Optional[str] = None
        self._target = path
        self._closers: List[object] = []
        kind = strip_compression(path)[1] if compress and path != STDIO else None
        if kind == "zstd":  # fail before creating anything
            self._zstandard = require("zstandard", "zstd", f"{path}: writing zstd-compressed output")
        self._upload: Optional[RemoteUpload] = None
        self._finished = False
        if path == STDIO:
            self._raw: BinaryIO = sys.stdout.buffer
        elif is_url(path):  # written here, uploaded whole on publish
            self._upload = RemoteUpload(path)
            self._tmp = self._upload.local
            self._raw = open(self._tmp, "wb")
        elif _written_through(path):
            self._raw = self._guard(lambda: open(path, "ab"))  # "a": a shell's >> onto /dev/stdout stays >>
        else:
            self._target = os.path.realpath(path)  # through a symlink, its target is replaced
            directory = os.path.dirname(self._target)
            fd, self._tmp = self._guard(lambda: tempfile.mkstemp(
                prefix="." + os.path.basename(self._target) + ".", suffix=".tmp", dir=directory))
            self._raw = os.fdopen(fd, "wb")
        self.stream: BinaryIO = self._compressor(self._raw, kind) if kind else self._raw

    def _guard(self, action: Any) -> Any:
        """Run ``action``; an OS error names the target (not the temporary file)."""
        try:
            return action()
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror or str(exc), self.path) from None

    def _compressor(self, raw: BinaryIO, kind: str) -> BinaryIO:
        stream: Any
        if kind == "gzip":
            stream = gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0)
        elif kind == "zstd":
            stream = self._zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False)
        elif kind == "bz2":
            import bz2
            stream = bz2.BZ2File(raw, "wb")
        else:
            import lzma
            stream = lzma.LZMAFile(raw, "wb")
        self._closers.append(stream)
        return stream  # type: ignore[return-value]

    def write(self, data: bytes) -> None:
        try:
            self.stream.write(data)
        except OSError as exc:
            if self.path == STDIO:
                raise
            raise OSError(exc.errno, exc.strerror or str(exc), self.path) from None

    def commit(self) -> None:
        """Finish the compressed stream, flush to disk and move the file into place (inside
        :func:`publish_together`, the move waits for every output of the block)."""
        self.finish()
        if _deferred:
            _deferred[-1].append(self)
        else:
            self.publish()

    def finish(self) -> None:
        """Everything written and on disk under the temporary name; nothing visible yet.
        Once is enough: later calls (a shard finished early, then committed) do nothing."""
        if self._finished:
            return
        self._finished = True

        def close_all() -> None:
            for closer in self._closers:
                closer.close()  # type: ignore[attr-defined]
            self._closers = []
            self._raw.flush()
            if self._tmp is not None:
                os.fsync(self._raw.fileno())
                self._raw.close()
            elif self.path != STDIO:
                self._raw.close()
        self._guard(close_all)

    def publish(self) -> None:
        """Move the finished temporary file over the target."""
        if self._tmp is None:
            return
        tmp = self._tmp
        if self._upload is not None:
            self._guard(self._upload.upload)
            self._tmp = None
            return

        def move() -> None:
            _set_default_mode(tmp)
            os.replace(tmp, self._target)
        self._guard(move)
        self._tmp = None

    def abort(self) -> None:
        """Throw the temporary file away (stdout and special files cannot be taken back).
        Never fails: a full disk that made the run fail must not keep its file too."""
        for closer in self._closers:
            try:
                closer.close()  # type: ignore[attr-defined]
            except Exception:  # the stream is being discarded; its errors do not matter
                pass
        self._closers = []
        if self.path != STDIO:
            try:
                self._raw.close()  # may flush into a full disk again: ignored, the file goes anyway
            except Exception:
                pass
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None


#: Outputs finished inside :func:`publish_together`, published when the block ends well.
_deferred: List[List[AtomicOutput]] = []


@contextmanager
def publish_together() -> Iterator[None]:
    """Commit several outputs as one: each ``commit()`` in the block only finishes its file
    (all data on disk under the temporary name); the renames happen together after the
    block, and only if it succeeded, so a failed run never leaves some outputs in place
    (a full disk while the report is flushed used to leave the output already renamed)."""
    batch: List[AtomicOutput] = []
    _deferred.append(batch)
    try:
        yield
    except BaseException:
        _deferred.pop()
        for out in batch:
            out.abort()
        raise
    _deferred.pop()
    for out in batch:
        out.publish()


@contextmanager
def all_or_none() -> Iterator[List[Any]]:
    """A list to put a command's outputs in (anything with ``commit``/``abort``): when the block
    ends well they are committed together (:func:`publish_together`); on any error, or an
    error while committing, every one is aborted."""
    outputs: List[Any] = []
    try:
        yield outputs
        with publish_together():
            for out in outputs:
                out.commit()
    except BaseException:
        for out in reversed(outputs):
            out.abort()
        raise


def _written_through(path: str) -> bool:
    """Whether ``path`` is written in place: an existing target (through links) that is not a
    regular file, or anything under /dev, /proc or /dev/fd."""
    if is_url(path):
        return False
    if os.path.abspath(path).startswith(("/dev/", "/proc/")):
        return True
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # not there yet: a new regular file


def _set_default_mode(path: str) -> None:
    """mkstemp creates 0600 files; give the output the mode a plain ``open`` would."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o666 & ~umask)


def is_directory_target(path: Optional[str]) -> bool:
    return path is not None and path != STDIO and (os.path.isdir(path) or path.endswith(os.sep)
                                                   or path.endswith("/"))


def display(path: str) -> str:
    """How a path is named in messages (``<stdin>`` for ``-``)."""
    return "<stdin>" if path == STDIO else path if is_url(path) else str(Path(path))
