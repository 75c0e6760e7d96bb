"""CompactIndex: the corpus index in memory-mapped files, for corpora whose index does not fit RAM.

The same structures as :class:`SortedMemoryIndex` (the same lookups, so the same decisions: nothing
is approximated), kept in files of a directory instead of process memory: the exact-set and
band tables (sorted runs with their directories), the shingle sets, and the entry columns.
The operating system pages them in as lookups touch them and out under memory pressure, so
the process itself holds only what documents need: each document's id and first entry
(a Python list and dict, about 100 bytes and the id per document). Reopening maps the files
and reads a small JSON of metadata: no loading step, whatever the size.

A batch is published by replacing ``meta.json`` (how much of each file is in use, the runs of
the tables, a generation number and a checksum) atomically; a reader only ever looks at what
the metadata it read covers. Appends past the published ends need no care, but a merge of
table runs rewrites published bytes in place, so before that each region's old bytes go to an
undo ``journal`` (fsynced first). After a kill, a full disk or an error at any point the index
is the state before the batch (the journal, when it belongs to the unpublished batch, puts
the old bytes back on the next open) or after it: :mod:`dedup.index.durability` names each
step, and ``tests/test_durability.py`` kills a writer at every one of them. Data files are
fsynced before the metadata names them, so a power cut loses at most the batch in flight.

One writer at a time: a writer holds ``writer.lock`` (``flock``) for its whole life; a second
one waits up to ``timeout`` seconds and then fails naming the first one's process. Readers
(``read_only=True``) never take it: they share ``publish.lock`` while they read the tables (a
writer holds it only while it changes published bytes, one batch's publication), so a reader
waits at most for one batch, never for a writer's run.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import logging
import mmap
import os
import socket
import struct
import sys
import time
import weakref
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from dedup.arrays import exclusive_cumsum
from dedup.errors import DedupError, IndexAccessError, IndexBusyError
from dedup.index.base import IndexBatch, check_settings, info_fields
from dedup.index.doc_ids import decode_doc_id, encode_doc_id
from dedup.index.durability import checkpoint, fsync_directory, fsync_file, replace_file, reserve
from dedup.index.sorted_memory import SortedMemoryIndex
from dedup.index.sorted_table import SortedTable

FORMAT_VERSION = 2
_META = "meta.json"
_DOCUMENTS = "documents.jsonl"
_JOURNAL = "journal"
_WRITER_LOCK = "writer.lock"
_PUBLISH_LOCK = "publish.lock"
_TABLES = ("exact", "bands")
_TABLE_PARTS = {"keys": np.uint64, "ids": np.uint32, "dir": np.uint32}
#: The entry columns: name -> dtype (64-bit offsets: no widening step, the bytes are on disk).
_COLUMNS = {"set_keys": np.uint64, "hashes": np.uint32, "set_start": np.int64, "set_len": np.uint32,
            "doc": np.int32, "para_index": np.int32, "starts": np.int64, "ends": np.int64}
_TABLE_FILES = frozenset(f"{table}.{part}" for table in _TABLES for part in _TABLE_PARTS)
#: Every file a compact index writes: a directory holding only these and no metadata is one whose
#: creation was cut short (nothing in it was ever published), so it is created again.
_OWN_FILES = frozenset([_META, _META + ".tmp", _DOCUMENTS, _JOURNAL, _WRITER_LOCK, _PUBLISH_LOCK]
                       + [f"{name}.bin" for name in _COLUMNS]) | _TABLE_FILES
_JOURNAL_MAGIC = b"dedup-journal-1\n"
_RECORD_HEAD = struct.Struct("<HQQ")  # file name length, byte offset, byte length

log = logging.getLogger(__name__)
#: The writer of this process per directory (its realpath): a newer one takes its lock over.
_WRITERS: Dict[str, "weakref.ref[CompactIndex]"] = {}


class FileArray:
    """A growable 1-D array in a file, memory-mapped (the :class:`GrowableArray` interface).

    Read-only arrays map the file copy-on-write (the array may be patched, the file never
    changes); growing reserves the disk space before the map can write to it.
    """

    def __init__(self, path: Path, dtype: Any, size: int = 0, read_only: bool = False) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self._size = size
        self._read_only = read_only
        if not path.exists():
            if read_only:
                raise DedupError(f"{path}: missing from the index")
            path.write_bytes(b"")
        self._data = self._map()

    def _map(self) -> np.ndarray:
        length = os.path.getsize(self.path) // self.dtype.itemsize
        if length == 0:
            return np.zeros(0, dtype=self.dtype)
        if self._read_only:
            with open(self.path, "rb") as f:
                mapped = mmap.mmap(f.fileno(), length * self.dtype.itemsize, access=mmap.ACCESS_COPY)
        else:
            with open(self.path, "r+b") as f:
                mapped = mmap.mmap(f.fileno(), length * self.dtype.itemsize)
        return np.frombuffer(mapped, dtype=self.dtype)  # a plain ndarray over the map (kernels take it)

    def ensure(self, capacity: int) -> np.ndarray:
        """The mapped buffer, with room for ``capacity`` items (the space taken on disk first)."""
        if capacity > len(self._data):
            grown = max(capacity, len(self._data) * 3 // 2, 4096)
            with open(self.path, "r+b") as f:
                reserve(f.fileno(), os.fstat(f.fileno()).st_size, grown * self.dtype.itemsize, str(self.path))
            self._data = self._map()  # the old map goes when nothing refers to it any more
        return self._data

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        return self._size * self.dtype.itemsize

    def extend(self, values: np.ndarray) -> None:
        need = self._size + len(values)
        self.ensure(need)[self._size:need] = values
        self._size = need

    @property
    def view(self) -> np.ndarray:
        return self._data[:self._size]

    def patch(self, offset: int, data: bytes) -> None:
        """Put ``data`` at byte ``offset`` of this process's (copy-on-write) map."""
        self._data.view(np.uint8)[offset:offset + len(data)] = np.frombuffer(data, dtype=np.uint8)


class _Journal:
    """The undo journal of the batch being written: old bytes of each published region of a table
    file before a merge writes over it. Each record is on disk (fsynced) before that write."""

    def __init__(self, directory: Path, generation: int) -> None:
        self.path = directory / _JOURNAL
        self.generation = generation
        self._file: Optional[IO[bytes]] = None

    def save(self, name: str, offset: int, data: memoryview) -> None:
        """Old bytes ``data`` (a view of the map: written out, never copied) of file ``name`` at
        ``offset``, on disk when this returns."""
        try:
            self._save(name, offset, data)
        except OSError as exc:  # name the file (a full disk says only "No space left on device")
            raise OSError(exc.errno, exc.strerror, str(self.path)) from None

    def _save(self, name: str, offset: int, data: memoryview) -> None:
        raw = name.encode()
        head = _RECORD_HEAD.pack(len(raw), offset, data.nbytes) + raw
        crc = struct.pack("<I", zlib.crc32(data, zlib.crc32(head)))
        checkpoint("compact.journal.write")
        first = self._file is None
        if self._file is None:
            self._file = open(self.path, "wb")
            self._file.write(_JOURNAL_MAGIC + struct.pack("<Q", self.generation))
        for part in (head, data, crc):
            self._file.write(part)
        self._file.flush()
        checkpoint("compact.journal.fsync")
        os.fsync(self._file.fileno())
        if first:  # the journal's own name must be on disk too
            checkpoint("compact.journal.fsync-dir")
            fsync_directory(self.path.parent)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_journal(path: Path) -> Tuple[int, List[Tuple[str, int, bytes]]]:
    """(generation, records) of an undo journal; a record cut short by a crash ends it (its
    region was not written over yet: a record is on disk before its write), as does one that
    names no table file (a damaged journal puts nothing anywhere else)."""
    raw = path.read_bytes()
    head = len(_JOURNAL_MAGIC) + 8
    if len(raw) < head or not raw.startswith(_JOURNAL_MAGIC):
        return -1, []
    generation = struct.unpack_from("<Q", raw, len(_JOURNAL_MAGIC))[0]
    records, at = [], head
    while at + _RECORD_HEAD.size <= len(raw):
        n_name, offset, length = _RECORD_HEAD.unpack_from(raw, at)
        end = at + _RECORD_HEAD.size + n_name + length
        if end + 4 > len(raw) or struct.unpack_from("<I", raw, end)[0] != zlib.crc32(raw[at:end]):
            break
        name = raw[at + _RECORD_HEAD.size:at + _RECORD_HEAD.size + n_name].decode(errors="replace")
        if name not in _TABLE_FILES:
            break
        records.append((name, offset, raw[end - length:end]))
        at = end + 4
    return generation, records


class _BatchInProgress:
    """The journal of the batch being written (None between batches), shared by the tables."""

    def __init__(self) -> None:
        self.journal: Optional[_Journal] = None


class _FileTable(SortedTable):
    """A :class:`SortedTable` whose buffers are :class:`FileArray` files; published bytes it is
    about to write over go to the index's journal first."""

    def __init__(self, directory: Path, name: str, state: Optional[dict], read_only: bool,
                 batch: "_BatchInProgress") -> None:
        super().__init__()
        self._batch = batch
        self._files = {part: FileArray(directory / f"{name}.{part}", dtype, read_only=read_only)
                       for part, dtype in _TABLE_PARTS.items()}
        self._keys, self._ids, self._dir = (self._files[p].ensure(0) for p in _TABLE_PARTS)
        if state:
            self._size, self._dir_size = state["size"], state["dir_size"]
            self._bounds, self._run_bits, self._run_dir = state["bounds"], state["run_bits"], state["run_dir"]
        self.mark_published()

    def mark_published(self) -> None:
        """What is in use now is published: from here on, writing over it needs the journal."""
        self._unsaved = {"keys": self._size, "ids": self._size, "dir": self._dir_size}  # saved from here up

    def _grow(self, name: str, array: np.ndarray, used: int, capacity: int) -> np.ndarray:
        return self._files[name].ensure(capacity)

    def _will_write(self, name: str, lo: int, hi: int) -> None:
        end = self._unsaved[name]
        if lo >= end:
            return
        buffer = self._files[name].ensure(0)  # the mapped buffer itself
        itemsize = buffer.dtype.itemsize
        journal = self._batch.journal
        if journal is None:
            raise DedupError(f"{self._files[name].path}: published bytes written outside a batch")
        journal.save(self._files[name].path.name, lo * itemsize, buffer[lo:end].view(np.uint8).data)
        self._unsaved[name] = lo
        checkpoint("compact.rewrite")

    def files(self) -> Dict[str, FileArray]:
        return self._files

    def used_bytes(self) -> Dict[str, int]:
        return {self._files["keys"].path.name: self._size * 8, self._files["ids"].path.name: self._size * 4,
                self._files["dir"].path.name: self._dir_size * 4}

    def state(self) -> dict:
        return {"size": self._size, "dir_size": self._dir_size, "bounds": list(self._bounds),
                "run_bits": list(self._run_bits), "run_dir": list(self._run_dir)}


def _meta_checksum(meta: Dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


class CompactIndex(SortedMemoryIndex):
    """``CompactIndex(directory, *, read_only=False, timeout=120.0)``: a persistent corpus index of
    memory-mapped files (created when the directory does not hold one). One writer at a time
    (another one waits up to ``timeout`` seconds); close it (or use ``with``)."""

    def __init__(self, directory: Union[str, os.PathLike], *, read_only: bool = False, timeout: float = 120.0) -> None:
        super().__init__()
        self.path = Path(directory)
        self.read_only = bool(read_only)
        self.timeout = float(timeout)
        self._writer_lock: Optional[IO[bytes]] = None
        self._batch = _BatchInProgress()
        self._depth = 0  # nesting of batch() (readers)
        self._seen: Optional[Tuple[int, int, int]] = None  # the metadata file last loaded
        if self.path.exists() and not self.path.is_dir():
            raise DedupError(f"{self.path}: not a directory (a compact index is a directory of files)")
        if self.read_only:
            if not (self.path / _META).exists():
                raise DedupError(f"{self.path}: no index there (no {_META})")
            with self._publish_lock(fcntl.LOCK_SH):
                self._load()
            return
        try:
            self._open_for_writing()
        except BaseException:
            self.close()
            raise

    # -- opening -----------------------------------------------------------------------

    def _open_for_writing(self) -> None:
        """Take the writer lock; create the index, or finish what a crash left, and load it."""
        if self.path.exists() and not (self.path / _META).exists():
            others = sorted(p.name for p in self.path.iterdir() if p.name not in _OWN_FILES)
            if others:
                raise DedupError(f"{self.path}: a directory with other files ({', '.join(others[:3])}), "
                                 "not a compact index")
        self.path.mkdir(parents=True, exist_ok=True)
        self._writer_lock = self._take_writer_lock()
        (self.path / _PUBLISH_LOCK).touch()
        if not (self.path / _META).exists():  # new, or a creation cut short: nothing was published
            for name in _OWN_FILES - {_WRITER_LOCK, _PUBLISH_LOCK}:
                try:
                    os.unlink(self.path / name)
                except FileNotFoundError:
                    pass
            for name in _OWN_FILES - {_META, _META + ".tmp", _JOURNAL, _WRITER_LOCK, _PUBLISH_LOCK}:
                (self.path / name).write_bytes(b"")  # before the metadata: a reader finds every file
            meta: Dict[str, Any] = {"format": FORMAT_VERSION, "generation": 0, "settings": None, "sizes": {},
                                    "tables": {}, "documents": 0, "files": {}}
            meta["checksum"] = _meta_checksum(meta)
            replace_file(self.path / _META, json.dumps(meta).encode(), "compact.create")
        with self._publish_lock(fcntl.LOCK_EX):
            self._recover_journal()
            self._load()
        try:
            os.unlink(self.path / (_META + ".tmp"))  # a replacement a crash cut short
        except FileNotFoundError:
            pass

    def _take_writer_lock(self) -> IO[bytes]:
        """The writer lock: taken over from a writer of this process on the same directory (a cell
        run again in a notebook; that object refuses to add from then on), else ``flock``ed,
        waiting up to ``timeout`` for another process."""
        key = os.path.realpath(self.path)
        earlier = _WRITERS.get(key)
        previous = earlier() if earlier is not None else None
        _WRITERS[key] = weakref.ref(self)
        if previous is not None and previous._writer_lock is not None:
            lock, previous._writer_lock = previous._writer_lock, None
            return lock
        lock = open(self.path / _WRITER_LOCK, "a+b", buffering=0)  # nothing left to flush on close
        deadline = time.monotonic() + self.timeout
        warned = False
        while True:
            try:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    lock.close()
                    raise
            holder = _holder(lock)
            if holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
                lock.close()
                raise IndexBusyError(f"{self.path}: this process already has the index open for writing; "
                                     "close that CompactIndex first (one writer at a time)")
            if time.monotonic() >= deadline:
                lock.close()
                raise IndexBusyError(f"{self.path}: another process is writing this index "
                                     f"({_describe(holder)}); waited {self.timeout:g} s (one writer at a time)")
            if not warned:
                log.warning("%s: waiting for the process writing this index (%s), up to %g s", self.path,
                            _describe(holder), self.timeout)
                warned = True
            time.sleep(0.05)
        try:  # who holds it, for the message of a writer that waits (best effort: a full disk may refuse)
            lock.seek(0)
            lock.truncate()
            lock.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                   "command": " ".join(sys.argv)[:200]}).encode())
            lock.flush()
        except OSError:
            pass
        return lock

    @contextmanager
    def _publish_lock(self, mode: int) -> Iterator[None]:
        """``publish.lock`` held in ``mode``: exclusive while published bytes change, shared while
        they are read. An index of a directory without one (read-only media) has no writer."""
        path = self.path / _PUBLISH_LOCK
        try:
            f = open(path, "r+b" if mode == fcntl.LOCK_EX else "rb")
        except FileNotFoundError:
            yield
            return
        with f:
            deadline = time.monotonic() + self.timeout
            while True:
                try:
                    fcntl.flock(f.fileno(), mode | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                        raise
                if time.monotonic() >= deadline:
                    raise IndexBusyError(f"{self.path}: a batch was being published for more than "
                                         f"{self.timeout:g} s")
                time.sleep(0.002)
            yield

    def _read_meta(self) -> Dict[str, Any]:
        meta_path = self.path / _META
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DedupError(f"{meta_path}: unreadable index metadata ({exc})") from None
        if not isinstance(meta, dict):
            raise DedupError(f"{meta_path}: damaged index metadata (not a JSON object)")
        if meta.get("format") != FORMAT_VERSION:
            raise DedupError(f"{self.path}: compact index format {meta.get('format')}, this dedup reads "
                             f"format {FORMAT_VERSION} (rebuild the index from its corpus)")
        if meta.get("checksum") != _meta_checksum(meta):
            raise DedupError(f"{meta_path}: damaged index metadata (checksum mismatch)")
        return meta

    def _recover_journal(self) -> None:
        """A journal of the batch after the published one: put back the bytes it saved. Any
        other journal belongs to a batch that was published: it goes."""
        path = self.path / _JOURNAL
        if not path.exists():
            return
        generation, records = read_journal(path)
        if generation == int(self._read_meta().get("generation", -2)) + 1:
            for name, offset, data in records:
                with open(self.path / name, "r+b") as f:
                    os.pwrite(f.fileno(), data, offset)
            for name in sorted({name for name, _, _ in records}):
                fsync_file(self.path / name)
        checkpoint("compact.journal.remove")
        os.unlink(path)

    def _load(self) -> None:
        """Map the files and read the documents the metadata covers (checked against it)."""
        meta = self._read_meta()
        stat = os.stat(self.path / _META)
        self._seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        try:
            self._generation = int(meta["generation"])
            sizes, tables, settings = meta["sizes"], meta["tables"], meta["settings"]
            files, n_documents = meta["files"], int(meta["documents"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DedupError(f"{self.path / _META}: damaged index metadata (missing {exc})") from None
        for name, used in files.items():
            path = self.path / name
            if not path.exists():
                raise DedupError(f"{path}: missing from the index")
            if path.stat().st_size < used:
                raise DedupError(f"{path}: truncated ({path.stat().st_size:,} bytes; the index uses {used:,})")
        for name, dtype in _COLUMNS.items():
            setattr(self, f"_{name}", FileArray(self.path / f"{name}.bin", dtype, sizes.get(name, 0), self.read_only))
        self._tables = {name: _FileTable(self.path, name, tables.get(name), self.read_only, self._batch)
                        for name in _TABLES}
        self._exact, self._bands = self._tables["exact"], self._tables["bands"]
        self._settings = (settings[0], settings[1]) if settings is not None else None
        if self.read_only:
            self._patch_from_journal()
        self._doc_ids, self._doc_first = [], {}
        self._load_documents(n_documents, int(files.get(_DOCUMENTS, 0)))

    def _patch_from_journal(self) -> None:
        """A reader finding the journal of a writer that died mid-batch (no writer has opened the
        index since): the saved bytes go into its own copy-on-write maps; the files stay as they are."""
        path = self.path / _JOURNAL
        if not path.exists():
            return
        generation, records = read_journal(path)
        if generation != self._generation + 1:
            return
        arrays = {array.path.name: array for table in self._tables.values() for array in table.files().values()}
        for name, offset, data in records:
            if name in arrays:
                arrays[name].patch(offset, data)

    def _load_documents(self, n: int, used: int) -> None:
        """The documents' ids (one JSON line each: id, first entry, size): the first ``used`` bytes,
        ``n`` lines. A writer cuts off the lines of a batch that was never published."""
        path = self.path / _DOCUMENTS
        if not path.exists():
            if n:
                raise DedupError(f"{path}: missing from the index")
            if self.read_only:
                return
            path.write_bytes(b"")
        with open(path, "rb") as f:
            raw = f.read(used)
        lines = raw.split(b"\n")
        if len(raw) < used or (lines[-1] if lines else b"") != b"" or len(lines) - 1 != n:
            raise DedupError(f"{path}: truncated or damaged ({len(lines) - 1:,} documents in {len(raw):,} bytes; "
                             f"the index holds {n:,})")
        for number, line in enumerate(lines[:-1], start=1):
            try:
                doc_id, first, size = json.loads(line)
                doc_id = decode_doc_id(doc_id)
                first, size = int(first), int(size)
            except (ValueError, TypeError) as exc:
                raise DedupError(f"{path}:{number}: damaged document line ({exc})") from None
            self._doc_ids.append(doc_id)
            self._doc_first.setdefault(doc_id, (first, size))
        if not self.read_only and os.path.getsize(path) > used:
            os.truncate(path, used)  # lines of a batch whose metadata was never written

    # -- the Index protocol ------------------------------------------------------------

    def __repr__(self) -> str:
        return f"CompactIndex({str(self.path)!r})"

    def __getstate__(self) -> dict:
        """Pickled as its directory (reopened, and locked again, where it is unpickled)."""
        return {"path": str(self.path), "read_only": self.read_only, "timeout": self.timeout}

    def __setstate__(self, state: dict) -> None:
        # a writer copy while the original still writes: refused at once, not after the timeout
        timeout = state["timeout"] if state["read_only"] else 0.0
        CompactIndex.__init__(self, state["path"], read_only=state["read_only"], timeout=timeout)

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        if self._settings is None and not self.read_only:
            self._settings = (settings_fingerprint, dict(settings))
            with self._publish_lock(fcntl.LOCK_EX):
                self._publish()
        if self._settings is None:
            raise DedupError(f"{self.path}: an empty index (nothing to query)")
        check_settings(f"index {self.path}", self._settings, settings_fingerprint, settings)

    def info(self) -> Dict[str, Any]:
        return info_fields("compact", {"path": str(self.path), "format": FORMAT_VERSION}, self._settings, {
            "paragraphs": len(self), "stored_sets": len(self._exact), "documents": len(self._doc_ids),
            "distinct_doc_ids": len(self._doc_first), "size_bytes": self.nbytes})

    @contextmanager
    def batch(self) -> Iterator["CompactIndex"]:
        """A reader's batch sees one published state: the latest, held still while it reads."""
        if not self.read_only or self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        with self._publish_lock(fcntl.LOCK_SH):
            stat = os.stat(self.path / _META)
            if (stat.st_ino, stat.st_mtime_ns, stat.st_size) != self._seen:
                self._load()  # a writer published batches since
            self._depth = 1
            try:
                yield self
            finally:
                self._depth = 0

    def add(self, batch: IndexBatch) -> None:
        if self.read_only:
            raise DedupError(f"{self.path}: opened read-only; nothing can be added")
        if self._writer_lock is None:
            raise DedupError(f"{self.path}: this CompactIndex is closed (or another one of this process "
                             "opened the directory for writing since); reopen it")
        if len(batch) == 0:  # as in memory: a batch of empty documents records nothing
            return
        firsts = (len(self) + exclusive_cumsum(np.asarray(batch.doc_sizes, dtype=np.int64))).tolist()
        lines = b"".join(json.dumps([encode_doc_id(doc_id), first, size]).encode() + b"\n"
                         for doc_id, first, size in zip(batch.doc_ids, firsts, np.asarray(batch.doc_sizes).tolist()))
        with self._publish_lock(fcntl.LOCK_EX):
            self._batch.journal = _Journal(self.path, self._generation + 1)
            try:
                checkpoint("compact.append")
                super().add(batch)
                checkpoint("compact.documents")
                _append(self.path / _DOCUMENTS, lines)
                self._publish()
            except BaseException as exc:
                self._roll_back(exc)
                if isinstance(exc, OSError):  # a full disk, an I/O error: one line naming the index
                    raise IndexAccessError(f"{self.path}: {describe_os_error(exc)}") from None
                raise
            finally:
                if self._batch.journal is not None:
                    self._batch.journal.close()
                    self._batch.journal = None

    def _publish(self) -> None:
        """Make what was appended part of the index: data on disk, then the metadata replaced."""
        files = {f"{name}.bin": getattr(self, f"_{name}").nbytes for name in _COLUMNS}
        for table in self._tables.values():
            files.update(table.used_bytes())
        files[_DOCUMENTS] = os.path.getsize(self.path / _DOCUMENTS) if (self.path / _DOCUMENTS).exists() else 0
        checkpoint("compact.fsync")
        for name in files:
            fsync_file(self.path / name)
        meta: Dict[str, Any] = {"format": FORMAT_VERSION, "generation": self._generation + 1,
                "settings": list(self._settings) if self._settings else None,
                "sizes": {name: len(getattr(self, f"_{name}")) for name in _COLUMNS},
                "tables": {name: table.state() for name, table in self._tables.items()},
                "documents": len(self._doc_ids), "files": files}
        meta["checksum"] = _meta_checksum(meta)
        replace_file(self.path / _META, json.dumps(meta).encode(), "compact.meta")
        self._generation += 1
        stat = os.stat(self.path / _META)
        self._seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        for table in self._tables.values():
            table.mark_published()
        journal = self._batch.journal
        if journal is not None and journal.path.exists():
            journal.close()
            checkpoint("compact.journal.remove")
            os.unlink(journal.path)

    def _roll_back(self, exc: BaseException) -> None:
        """A batch failed part way (a full disk, Ctrl-C): the files and this object go back to the
        last published state, as a reopen would find them. Should that fail too, the index
        refuses further batches (a reopen recovers it)."""
        if self._batch.journal is not None:
            self._batch.journal.close()
        try:
            self._recover_journal()
            self._load()
        except BaseException:
            if self._writer_lock is not None:
                self._writer_lock.close()
                self._writer_lock = None
            log.warning("%s: could not roll back a failed batch (%s); reopen the index", self.path, exc)

    def close(self) -> None:
        """Release the writer lock (nothing is pending after a batch)."""
        key = os.path.realpath(self.path)
        if _WRITERS.get(key, lambda: None)() is self:
            del _WRITERS[key]
        if self._writer_lock is not None:
            self._writer_lock.close()
            self._writer_lock = None

    def __enter__(self) -> "CompactIndex":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _append(path: Path, data: bytes) -> None:
    """``data`` at the end of ``path``; an error names the file."""
    try:
        with open(path, "ab") as f:
            f.write(data)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None


def describe_os_error(exc: OSError) -> str:
    """An OS error as one line naming its file (the index's own files are named relative to it)."""
    what = exc.strerror or str(exc)
    return f"{what} ({Path(exc.filename).name})" if exc.filename else what


def _holder(lock: IO[bytes]) -> Dict[str, Any]:
    """Who holds a writer lock (as it wrote into the file), or {} when that cannot be read."""
    try:
        lock.seek(0)
        holder = json.loads(lock.read().decode() or "{}")
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def _describe(holder: Dict[str, Any]) -> str:
    if not holder:
        return "process unknown"
    return f"pid {holder.get('pid')} on {holder.get('host')}: {holder.get('command', '')}".rstrip(": ")
