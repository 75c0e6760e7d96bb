"""MemoryIndex: the corpus index held in this process, in the compiled engine's store.

A :class:`dedup.accel._core.Store`: per paragraph its set key, shingle set, span and
document, and two hash tables (exact set key -> first paragraph; LSH band key -> the
earliest ``max_bucket_candidates`` paragraphs), each a sorted base with a directory plus an
appended delta, so a look-up or an append is O(1) at any size (see ``csrc/tables.h``). The
compiled engine reads and appends to it one record at a time; the methods below serve the
:class:`~dedup.index.base.Index` interface a batch of arrays at a time.

Where the engine is not built (or ``DEDUP_NATIVE=0``), ``MemoryIndex()`` gives a
:class:`~dedup.index.sorted_memory.SortedMemoryIndex`, the numpy structure with the same
candidates, hence the same decisions.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np

from dedup.accel.native import core
from dedup.errors import ConfigError
from dedup.index.base import DocId, Index, IndexBatch, Location, Settings, check_settings, info_fields

_I64 = np.int64
_U64 = np.uint64


def _ints(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=_I64)


class MemoryIndex(Index):
    """Entries of every paragraph seen, for corpus scope in one process.

    Picklable; lost when the process ends (use a persistent index to keep it). Its store is
    made when the index is bound to its settings (they fix the band count and bucket cap).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is MemoryIndex and core() is None:  # no compiled engine: the numpy structure
            from dedup.index.sorted_memory import SortedMemoryIndex
            return SortedMemoryIndex()
        return super().__new__(cls)

    def __init__(self) -> None:
        self._settings: Optional[Settings] = None
        self._store: Any = None

    # -- settings and the store ----------------------------------------------------------

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        if self._settings is None:
            self._settings = (settings_fingerprint, dict(settings))
            self._store = _new_store(settings)
        check_settings("index", self._settings, settings_fingerprint, settings)

    @property
    def store(self) -> Any:
        """The compiled store (the engine reads and appends to it directly)."""
        if self._store is None:
            raise ConfigError("a MemoryIndex is bound to its settings before use (Deduplicator does it)")
        return self._store

    def native_store(self) -> Any:
        """The store itself; None for a subclass, whose overrides the batch path then calls."""
        return self.store if type(self) is MemoryIndex else None

    def __len__(self) -> int:
        return 0 if self._store is None else len(self._store)

    @property
    def stores_shingles(self) -> bool:  # type: ignore[override]
        """False when bound to exact-only settings: then only set keys are kept (a few bytes a
        paragraph) and a repeat is decided on the 64-bit key (see ``docs/indexes.md``)."""
        return self._store is None or bool(self._store.stores_sets)

    def replay_of(self, doc_id: DocId, set_keys: np.ndarray) -> Optional[int]:
        if self._store is None:
            return None
        return self._store.replay(doc_id, np.ascontiguousarray(set_keys, dtype=_U64))

    def info(self) -> Dict[str, Any]:
        """What the index holds (the same keys as the persistent indexes report)."""
        store = self._store
        documents = 0 if store is None else store.documents
        distinct = 0 if store is None else len(set(store.doc_ids))
        kind = "memory" if self.stores_shingles else "exact-only"
        return info_fields(kind, {}, self._settings, {
            "paragraphs": len(self), "documents": documents, "distinct_doc_ids": distinct,
            "size_bytes": self.nbytes})

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays and tables (the documents' ids are the caller's objects)."""
        return 0 if self._store is None else int(self._store.nbytes)

    # -- the Index interface -------------------------------------------------------------

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        return None if self._store is None else self._store.document(doc_id)

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        keys = np.ascontiguousarray(set_keys, dtype=_U64)
        if self._store is None:
            return np.full(len(keys), -1, dtype=_I64)
        return _ints(self._store.first_exact(keys))

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        return np.frombuffer(self.store.entry_set_keys(np.ascontiguousarray(ids, dtype=_I64)), dtype=_U64)

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        if self._store is None:
            return np.zeros(0, dtype=_I64), np.zeros(0, dtype=_I64)
        pos, ids = self._store.band_candidates(np.ascontiguousarray(band_keys, dtype=_U64).ravel(), int(limit))
        return _ints(pos), _ints(ids)

    def shingles(self, entry_id: int) -> np.ndarray:
        pool, starts, lengths = self.shingle_spans(np.array([entry_id], dtype=_I64))
        return pool[int(starts[0]):int(starts[0]) + int(lengths[0])].copy()

    def shingle_spans(self, ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sets where they are stored (a view valid until the next ``add``)."""
        starts, lengths = self.store.set_spans(np.ascontiguousarray(ids, dtype=_I64))
        return np.frombuffer(self.store.pool_view(), dtype=np.uint32), _ints(starts), _ints(lengths)

    def location(self, entry_id: int) -> Location:
        docs, index, starts, ends = self.location_columns(np.array([entry_id], dtype=_I64))
        return Location(docs[0], index[0], starts[0], ends[0])

    def location_columns(self, ids: np.ndarray) -> Tuple[list, list, list, list]:
        return self.store.locations(np.ascontiguousarray(ids, dtype=_I64))

    def add(self, batch: IndexBatch) -> None:
        if len(batch) == 0 and not batch.doc_ids:
            return
        store = self.store
        keys = np.ascontiguousarray(batch.band_keys, dtype=_U64).reshape(len(batch), -1)
        store.add(np.ascontiguousarray(batch.set_keys, dtype=_U64), keys.ravel(), keys.shape[1],
                  np.ascontiguousarray(batch.hashes, dtype=np.uint32), np.ascontiguousarray(batch.offsets, dtype=_I64),
                  np.ascontiguousarray(batch.shingle_ref, dtype=_I64), list(batch.doc_ids),
                  np.ascontiguousarray(batch.doc_sizes, dtype=_I64), np.ascontiguousarray(batch.starts, dtype=_I64),
                  np.ascontiguousarray(batch.ends, dtype=_I64), *_noisy(batch))

    # -- pickling ------------------------------------------------------------------------

    def __getstate__(self) -> dict:
        store = self._store
        return {"settings": self._settings,
                "store": None if store is None else (store.dump(), list(store.doc_ids))}

    def __setstate__(self, state: dict) -> None:
        self._settings = state["settings"]
        self._store = None
        if self._settings is not None:
            self._store = _new_store(self._settings[1])
            if state["store"] is not None:
                self._store.load(*state["store"])


def _new_store(settings: dict) -> Any:
    """An empty store for an index of these settings (band count, bucket cap, exact-only, the noisy
    rules' bands)."""
    module = core()
    assert module is not None
    exact_only = bool(settings.get("exact_only"))
    noisy = settings.get("noisy_rules") or {}
    return module.Store(0 if exact_only else int(settings.get("bands") or 0),
                        int(settings.get("max_bucket_candidates") or 64), not exact_only, int(noisy.get("bands") or 0))


def _noisy(batch: IndexBatch) -> tuple:
    """The noisy layer's arrays of a batch, as Store.add takes them (none: nothing)."""
    if batch.noisy_keys is None:
        return ()
    return (np.ascontiguousarray(batch.noisy_keys, dtype=np.uint64).ravel(), bytes(batch.noisy_records or b""),
            np.ascontiguousarray(batch.noisy_offsets, dtype=_I64))
