"""SortedMemoryIndex: the corpus index in numpy columns and sorted runs (no compiled engine).

What :class:`dedup.MemoryIndex` is where the compiled engine is not built, and the structure
the compact index keeps in files. The same candidates, hence the same decisions, as the
compiled store's hash tables.

Bytes per entry (see ``nbytes``): a paragraph that stores its set costs 12 bytes in the
exact-set table, 12 per LSH band (uint64 key + uint32 id, plus ~1 for the run
directories), 4 per shingle and 32 for its columns (set key, where its set lives, its
document, index and span); an exact repeat costs only the 32 bytes of columns: it shares
the set of the entry it repeats and is in no bucket.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from dedup.arrays import exclusive_cumsum, row_of
from dedup.index.base import DocId, Index, IndexBatch, Location, Settings, check_settings, info_fields
from dedup.index.growable import GrowableArray
from dedup.index.sorted_table import SortedTable


class _Column:
    """A growable unsigned column that starts at 32 bits and widens to 64 when a value needs it."""

    def __init__(self) -> None:
        self._data = GrowableArray(np.uint32)

    def __len__(self) -> int:
        return len(self._data)

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    @property
    def view(self) -> np.ndarray:
        return self._data.view

    def extend(self, values: np.ndarray) -> None:
        if len(values) and self._data.view.dtype == np.uint32 and int(values.max()) >= 1 << 32:
            wide = GrowableArray(np.int64, max(1024, 2 * len(self._data)))
            wide.extend(self._data.view.astype(np.int64))
            self._data = wide
        self._data.extend(values)


class SortedMemoryIndex(Index):
    """Entries of every paragraph seen, for corpus scope in one process.

    Picklable; lost when the process ends (use a persistent index to keep it).
    """

    def __init__(self) -> None:
        self._settings: Optional[Settings] = None
        self._exact = SortedTable()
        self._bands = SortedTable()
        self._set_keys = GrowableArray(np.uint64)
        self._hashes = GrowableArray(np.uint32)
        self._set_start = _Column()  # where the entry's set starts in _hashes (shared by exact repeats)
        self._set_len = GrowableArray(np.uint32)
        self._doc = GrowableArray(np.int32)  # ordinal into _doc_ids
        self._para_index = GrowableArray(np.int32)
        self._starts = _Column()
        self._ends = _Column()
        self._doc_ids: List[DocId] = []
        self._doc_first: Dict[DocId, Tuple[int, int]] = {}

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        if self._settings is None:
            self._settings = (settings_fingerprint, dict(settings))
        check_settings("index", self._settings, settings_fingerprint, settings)

    def __len__(self) -> int:
        return len(self._set_len)

    def info(self) -> Dict[str, Any]:
        """What the index holds (the same keys as the persistent indexes report)."""
        return info_fields("memory", {}, self._settings, {
            "paragraphs": len(self), "documents": len(self._doc_ids),
            "distinct_doc_ids": len(self._doc_first), "size_bytes": self.nbytes})

    @property
    def n_documents(self) -> int:
        return len(self._doc_ids)

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays (the doc-id list and dict are extra)."""
        columns = (self._set_keys, self._hashes, self._set_start, self._set_len, self._doc, self._para_index,
                   self._starts, self._ends)
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

    def band_candidates_sorted(self, sorted_keys: np.ndarray, positions: np.ndarray, limit: int
                               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sorted keys walk the band table's runs forward: no re-sort, kinder to memory."""
        return self._bands.lookup_sorted(sorted_keys, positions, limit)

    def shingles(self, entry_id: int) -> np.ndarray:
        start = int(self._set_start.view[entry_id])
        return self._hashes.view[start:start + int(self._set_len.view[entry_id])]

    def shingle_spans(self, ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sets where they are stored: no copy."""
        ids = np.asarray(ids, dtype=np.int64)
        return (self._hashes.view, self._set_start.view[ids].astype(np.int64),
                self._set_len.view[ids].astype(np.int64))

    def location(self, entry_id: int) -> Location:
        return Location(
            self._doc_ids[int(self._doc.view[entry_id])],
            int(self._para_index.view[entry_id]),
            int(self._starts.view[entry_id]),
            int(self._ends.view[entry_id]),
        )

    def location_columns(self, ids: np.ndarray) -> Tuple[list, list, list, list]:
        """Column gathers instead of one :meth:`location` per entry."""
        ids = np.asarray(ids, dtype=np.int64)
        doc_ids = self._doc_ids
        return ([doc_ids[d] for d in self._doc.view[ids].tolist()], self._para_index.view[ids].tolist(),
                self._starts.view[ids].tolist(), self._ends.view[ids].tolist())

    def add(self, batch: IndexBatch) -> None:
        if len(batch) == 0:
            return
        base = len(self)
        stored = batch.shingle_ref < 0
        self._add_keys(batch, base, stored)
        self._add_sets(batch, base, stored)
        self._add_documents(batch, base)

    def _add_keys(self, batch: IndexBatch, base: int, stored: np.ndarray) -> None:
        """Exact-set and band tables: only entries that store their set (the first of each set)."""
        ids = np.arange(base, base + len(batch), dtype=np.int64)
        self._exact.add(batch.set_keys[stored], ids[stored])
        if batch.sorted_band_pairs is not None:
            self._bands.add_sorted(*batch.sorted_band_pairs)
        else:
            self._bands.add(batch.band_keys[stored].ravel(), np.repeat(ids[stored], batch.band_keys.shape[1]))

    def _add_sets(self, batch: IndexBatch, base: int, stored: np.ndarray) -> None:
        """Shingle sets of stored entries; an exact repeat points at the set of the entry it repeats."""
        lengths = np.diff(batch.offsets)
        set_start = len(self._hashes) + exclusive_cumsum(np.where(stored, lengths, 0))
        set_len = lengths.copy()
        refs = np.flatnonzero(~stored)
        if len(refs):
            ref = batch.shingle_ref[refs]
            earlier = ref < base
            set_start[refs[earlier]] = self._set_start.view[ref[earlier]]
            set_len[refs[earlier]] = self._set_len.view[ref[earlier]]
            in_batch = refs[~earlier]
            set_start[in_batch] = set_start[ref[~earlier] - base]
            set_len[in_batch] = set_len[ref[~earlier] - base]
        self._hashes.extend(batch.hashes[np.repeat(stored, lengths)])
        self._set_start.extend(set_start)
        self._set_len.extend(set_len.astype(np.uint32))
        self._set_keys.extend(np.asarray(batch.set_keys, dtype=np.uint64))

    def _add_documents(self, batch: IndexBatch, base: int) -> None:
        """Each batch document gets the next ordinal; its entries point to it."""
        first_ord = len(self._doc_ids)
        first_row = base + exclusive_cumsum(batch.doc_sizes)
        for doc_id, first, size in zip(batch.doc_ids, first_row.tolist(), batch.doc_sizes.tolist()):
            self._doc_ids.append(doc_id)
            self._doc_first.setdefault(doc_id, (first, size))
        self._doc.extend(first_ord + row_of(batch.doc_sizes))
        self._para_index.extend(batch.para_index.astype(np.int32))
        self._starts.extend(batch.starts)
        self._ends.extend(batch.ends)
