"""MemoryIndex: the corpus index held in this process, as flat numpy columns."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

from dedup.errors import IndexMismatchError
from dedup.index.base import DocId, IndexBatch, Location
from dedup.index.growable import GrowableArray
from dedup.index.sorted_table import SortedTable


class MemoryIndex:
    """Entries of every paragraph seen, for corpus scope in one process.

    Picklable; lost when the process ends (use a persistent index to keep it).
    """

    def __init__(self) -> None:
        self._settings: Optional[Tuple[str, dict]] = None
        self._exact = SortedTable()
        self._bands = SortedTable()
        self._set_keys = GrowableArray(np.uint64)
        self._hashes = GrowableArray(np.uint32)
        self._hash_start = GrowableArray(np.int64)  # -1: shares the set of entry _shingle_ref
        self._hash_len = GrowableArray(np.int32)
        self._shingle_ref = GrowableArray(np.int64)
        self._doc = GrowableArray(np.int32)  # ordinal into _doc_ids
        self._para_index = GrowableArray(np.int32)
        self._starts = GrowableArray(np.int64)
        self._ends = GrowableArray(np.int64)
        self._doc_ids: List[DocId] = []
        self._doc_first: Dict[DocId, Tuple[int, int]] = {}

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        if self._settings is None:
            self._settings = (settings_fingerprint, dict(settings))
        elif self._settings[0] != settings_fingerprint:
            raise IndexMismatchError(
                f"index was built with settings {self._settings[1]} (fingerprint "
                f"{self._settings[0]}), not {settings} (fingerprint {settings_fingerprint})"
            )

    def __len__(self) -> int:
        return len(self._set_keys)

    @contextmanager
    def batch(self) -> Iterator["MemoryIndex"]:
        """One batch of lookups and adds; nothing to lock in one process (persistent indexes do)."""
        yield self

    def info(self) -> Dict[str, Any]:
        """What the index holds (the same keys as the persistent indexes report)."""
        return {
            "kind": "memory",
            "fingerprint": self._settings[0] if self._settings else None,
            "settings": self._settings[1] if self._settings else None,
            "paragraphs": len(self),
            "documents": len(self._doc_ids),
            "distinct_doc_ids": len(self._doc_first),
            "size_bytes": self.nbytes,
        }

    @property
    def n_documents(self) -> int:
        return len(self._doc_ids)

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays (the doc-id list and dict are extra)."""
        columns = (self._set_keys, self._hashes, self._hash_start, self._hash_len, self._shingle_ref,
                   self._doc, self._para_index, self._starts, self._ends)
        return self._exact.nbytes + self._bands.nbytes + sum(c.nbytes for c in columns)

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        return self._doc_first.get(doc_id)

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        return self._exact.first(np.asarray(set_keys, dtype=np.uint64))

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        return self._set_keys.view[np.asarray(ids, dtype=np.int64)]

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        q, ids, _ = self._bands.lookup(np.asarray(band_keys, dtype=np.uint64).ravel(), limit)
        return q, ids

    def shingles(self, entry_id: int) -> np.ndarray:
        ref = int(self._shingle_ref.view[entry_id])
        if ref >= 0:
            entry_id = ref
        start = int(self._hash_start.view[entry_id])
        return self._hashes.view[start:start + int(self._hash_len.view[entry_id])]

    def location(self, entry_id: int) -> Location:
        return Location(
            self._doc_ids[int(self._doc.view[entry_id])],
            int(self._para_index.view[entry_id]),
            int(self._starts.view[entry_id]),
            int(self._ends.view[entry_id]),
        )

    def add(self, batch: IndexBatch) -> None:
        n = len(batch)
        if n == 0:
            return
        base = len(self)
        ids = np.arange(base, base + n, dtype=np.int64)
        stored = batch.shingle_ref < 0
        # Exact-set table: only the first entry of each set matters, so store those only.
        self._exact.add(batch.set_keys[stored], ids[stored])
        self._bands.add(batch.band_keys[stored].ravel(), np.repeat(ids[stored], batch.band_keys.shape[1]))
        lengths = np.diff(batch.offsets)
        keep = np.repeat(stored, lengths)
        hash_start = np.full(n, -1, dtype=np.int64)
        kept_len = np.where(stored, lengths, 0)
        hash_start[stored] = len(self._hashes) + (np.cumsum(kept_len) - kept_len)[stored]
        self._hashes.extend(batch.hashes[keep])
        self._hash_start.extend(hash_start)
        self._hash_len.extend(kept_len.astype(np.int32))
        self._shingle_ref.extend(batch.shingle_ref)
        self._set_keys.extend(batch.set_keys)
        # Documents: each batch document gets the next ordinal; its entries point to it.
        first_ord = len(self._doc_ids)
        first_row = base + np.cumsum(batch.doc_sizes) - batch.doc_sizes
        for doc_id, first, size in zip(batch.doc_ids, first_row.tolist(), batch.doc_sizes.tolist()):
            self._doc_ids.append(doc_id)
            self._doc_first.setdefault(doc_id, (first, size))
        doc_ord = np.repeat(np.arange(first_ord, len(self._doc_ids), dtype=np.int32), batch.doc_sizes)
        self._doc.extend(doc_ord)
        self._para_index.extend(batch.para_index.astype(np.int32))
        self._starts.extend(batch.starts)
        self._ends.extend(batch.ends)
