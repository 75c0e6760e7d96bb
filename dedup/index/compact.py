"""CompactIndex: the corpus index in memory-mapped files, for corpora whose index does not fit RAM.

The same structures as :class:`MemoryIndex` (the same lookups, so the same decisions: nothing
is approximated), kept in files of a directory instead of process memory: the exact-set and
band tables (sorted runs with their directories), the shingle sets, and the entry columns.
The operating system pages them in as lookups touch them and out under memory pressure, so
the process itself holds only what documents need: each document's id and first entry
(a Python list and dict, about 100 bytes and the id per document). Reopening maps the files
and reads a small JSON of metadata: no loading step, whatever the size.

Crash safety: data files are appended first and the metadata (how much of each file is in
use, the runs of the tables) is replaced atomically after each batch; a batch interrupted
before that is ignored on reopen. Data files are not fsynced (a power cut can lose the last
batches, never mix them).
"""

from __future__ import annotations

import json
import mmap
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from dedup.arrays import exclusive_cumsum
from dedup.errors import DedupError
from dedup.index.base import IndexBatch, check_settings, info_fields
from dedup.index.doc_ids import decode_doc_id, encode_doc_id
from dedup.index.durability import checkpoint
from dedup.index.memory import MemoryIndex
from dedup.index.sorted_table import SortedTable

FORMAT_VERSION = 1
_META = "meta.json"


class FileArray:
    """A growable 1-D array in a file, memory-mapped (the :class:`GrowableArray` interface)."""

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
        if self._read_only:  # copy-on-write: the arrays are writable, the file never changes
            with open(self.path, "rb") as f:
                mapped = mmap.mmap(f.fileno(), length * self.dtype.itemsize, access=mmap.ACCESS_COPY)
        else:
            with open(self.path, "r+b") as f:
                mapped = mmap.mmap(f.fileno(), length * self.dtype.itemsize)
        return np.frombuffer(mapped, dtype=self.dtype)  # a plain ndarray over the map (kernels take it)

    def ensure(self, capacity: int) -> np.ndarray:
        """The mapped buffer, with room for ``capacity`` items."""
        if capacity > len(self._data):
            grown = max(capacity, len(self._data) * 3 // 2, 4096)
            os.truncate(self.path, grown * self.dtype.itemsize)
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


class _FileTable(SortedTable):
    """A :class:`SortedTable` whose buffers are :class:`FileArray` files."""

    def __init__(self, directory: Path, name: str, state: Optional[dict] = None, read_only: bool = False) -> None:
        super().__init__()
        self._files = {part: FileArray(directory / f"{name}.{part}", dtype, read_only=read_only)
                       for part, dtype in (("keys", np.uint64), ("ids", np.uint32), ("dir", np.uint32))}
        self._keys, self._ids, self._dir = (self._files[p].ensure(0) for p in ("keys", "ids", "dir"))
        if state:
            self._size, self._dir_size = state["size"], state["dir_size"]
            self._bounds, self._run_bits, self._run_dir = state["bounds"], state["run_bits"], state["run_dir"]

    def _grow(self, name: str, array: np.ndarray, used: int, capacity: int) -> np.ndarray:
        return self._files[name].ensure(capacity)

    def state(self) -> dict:
        return {"size": self._size, "dir_size": self._dir_size, "bounds": list(self._bounds),
                "run_bits": list(self._run_bits), "run_dir": list(self._run_dir)}


#: The entry columns: name -> dtype (64-bit offsets: no widening step, the bytes are on disk).
_COLUMNS = {"set_keys": np.uint64, "hashes": np.uint32, "set_start": np.int64, "set_len": np.uint32,
            "doc": np.int32, "para_index": np.int32, "starts": np.int64, "ends": np.int64}


class CompactIndex(MemoryIndex):
    """``CompactIndex(directory)``: a persistent corpus index of memory-mapped files (created
    when the directory does not hold one). One writer at a time; close it (or use ``with``)."""

    def __init__(self, directory: Union[str, os.PathLike], *, read_only: bool = False) -> None:
        super().__init__()
        self.path = Path(directory)
        self.read_only = bool(read_only)
        meta_path = self.path / _META
        if self.path.exists() and not self.path.is_dir():
            raise DedupError(f"{self.path}: not a directory (a compact index is a directory of files)")
        if not meta_path.exists():
            if read_only:
                raise DedupError(f"{self.path}: no index there (no {_META})")
            if self.path.exists() and any(self.path.iterdir()):
                raise DedupError(f"{self.path}: a directory with other files, not a compact index")
            self.path.mkdir(parents=True, exist_ok=True)
            meta: Dict[str, Any] = {"format": FORMAT_VERSION, "sizes": {}, "tables": {}, "settings": None}
        else:
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise DedupError(f"{self.path}: unreadable index metadata ({exc})") from None
            if meta.get("format") != FORMAT_VERSION:
                raise DedupError(f"{self.path}: compact index format {meta.get('format')}, this dedup reads "
                                 f"format {FORMAT_VERSION}")
        sizes = meta["sizes"]
        for name, dtype in _COLUMNS.items():
            setattr(self, f"_{name}", FileArray(self.path / f"{name}.bin", dtype, sizes.get(name, 0), read_only))
        self._tables = {name: _FileTable(self.path, name, meta["tables"].get(name), read_only)
                        for name in ("exact", "bands")}
        self._exact, self._bands = self._tables["exact"], self._tables["bands"]
        if meta["settings"] is not None:
            self._settings = (meta["settings"][0], meta["settings"][1])
        self._doc_log = self.path / "documents.jsonl"
        self._doc_ids, self._doc_first = [], {}
        self._load_documents(int(meta.get("documents", 0)))

    def _load_documents(self, n: int) -> None:
        """The documents' ids (one JSON line each: id, first entry, size), the first ``n`` lines."""
        if not self._doc_log.exists():
            if self.read_only:
                return
            self._doc_log.write_bytes(b"")
        used = 0
        with open(self._doc_log, "rb") as f:
            for _, line in zip(range(n), f):
                used += len(line)
                doc_id, first, size = json.loads(line)
                doc_id = decode_doc_id(doc_id)
                self._doc_ids.append(doc_id)
                self._doc_first.setdefault(doc_id, (first, size))
        if not self.read_only and os.path.getsize(self._doc_log) > used:
            os.truncate(self._doc_log, used)  # lines of a batch whose metadata was never written

    def __repr__(self) -> str:
        return f"CompactIndex({str(self.path)!r})"

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        if self._settings is None and not self.read_only:
            self._settings = (settings_fingerprint, dict(settings))
            self._save()
        if self._settings is None:
            raise DedupError(f"{self.path}: an empty index (nothing to query)")
        check_settings(f"index {self.path}", self._settings, settings_fingerprint, settings)

    def info(self) -> Dict[str, Any]:
        return info_fields("compact", {"path": str(self.path)}, self._settings, {
            "paragraphs": len(self), "documents": len(self._doc_ids),
            "distinct_doc_ids": len(self._doc_first), "size_bytes": self.nbytes})

    def add(self, batch: IndexBatch) -> None:
        if self.read_only:
            raise DedupError(f"{self.path}: opened read-only; nothing can be added")
        if len(batch) == 0 and not batch.doc_ids:
            return
        firsts = (len(self) + exclusive_cumsum(np.asarray(batch.doc_sizes, dtype=np.int64))).tolist()
        checkpoint("compact.columns")
        super().add(batch)
        checkpoint("compact.documents")
        with open(self._doc_log, "ab") as f:
            for doc_id, first, size in zip(batch.doc_ids, firsts, np.asarray(batch.doc_sizes).tolist()):
                f.write(json.dumps([encode_doc_id(doc_id), first, size]).encode() + b"\n")
        self._save()

    def _save(self) -> None:
        """The metadata that makes what was appended part of the index (atomically replaced)."""
        meta = {"format": FORMAT_VERSION, "settings": list(self._settings) if self._settings else None,
                "sizes": {name: len(getattr(self, f"_{name}")) for name in _COLUMNS},
                "tables": {name: table.state() for name, table in self._tables.items()},
                "documents": len(self._doc_ids)}
        tmp = self.path / (_META + ".tmp")
        checkpoint("compact.meta.write")
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        checkpoint("compact.meta.rename")
        os.replace(tmp, self.path / _META)

    def close(self) -> None:
        """Nothing is pending after a batch; kept for the Index protocol (and ``with``)."""

    def __enter__(self) -> "CompactIndex":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

