"""In-process lookup tables (exact set keys, LSH band keys) rebuilt from stored key runs.

Why in process: a random-key B-tree of band keys on disk gets slower as it grows. Every
batch commit dirties most of its pages (21 keys per paragraph scatter over the whole
tree), so a commit rewrites a large part of the table. Sorted numpy tables answer a whole
batch with a few ``searchsorted`` calls. The persistent indexes store each batch's keys
as one appended *run* and load the runs into these tables; the tables are a cache,
and the runs on disk are the truth.

Where the compiled engine is built, the tables are its store's hash tables (O(1) look-ups and
appends, ~14 bytes a key, runs added one at a time so reopening peaks no higher than building);
else sorted runs.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from dedup.accel.native import core
from dedup.index.sorted_table import SortedTable


class KeyView:
    """Exact-set and band-key tables for entries ``0 .. len - 1``, appended in id order.

    ``cap``: ids kept per band key (the index's ``max_bucket_candidates``: a look-up never asks for
    more); None keeps them all.
    """

    def __init__(self, cap: Optional[int] = None) -> None:
        module = core()
        self._store = module.Store(0, cap or (1 << 31) - 1, False) if module is not None else None
        self.exact = SortedTable()
        self.bands = SortedTable()
        self.len = 0  # entries covered (the next id)

    @property
    def nbytes(self) -> int:
        if self._store is not None:
            return int(self._store.nbytes)
        return self.exact.nbytes + self.bands.nbytes

    def add_run(self, ids: np.ndarray, set_keys: np.ndarray, band_keys: np.ndarray) -> None:
        """Keys of stored entries ``ids`` (increasing, all >= every id already held)."""
        if len(ids) == 0:
            return
        if self._store is not None:
            keys = np.ascontiguousarray(band_keys, dtype=np.uint64).reshape(len(ids), -1)
            self._store.add_keys(np.ascontiguousarray(ids, dtype=np.int64), np.ascontiguousarray(set_keys, dtype=np.uint64),
                                 keys.ravel(), keys.shape[1])
            return
        self.exact.add(set_keys, ids)
        self.bands.add(band_keys.ravel(), np.repeat(ids, band_keys.shape[1]))

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        if self._store is not None:
            return np.frombuffer(self._store.first_exact(np.ascontiguousarray(set_keys, dtype=np.uint64)), np.int64)
        keys = np.asarray(set_keys, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")  # sorted needles: searchsorted stays in cache
        out = np.empty(len(keys), dtype=np.int64)
        out[order] = self.exact.first(keys[order])
        return out

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        if self._store is not None:
            pos, ids = self._store.band_candidates(np.ascontiguousarray(band_keys, dtype=np.uint64).ravel(), int(limit))
            return np.frombuffer(pos, np.int64), np.frombuffer(ids, np.int64)
        keys = np.asarray(band_keys, dtype=np.uint64).ravel()
        order = np.argsort(keys, kind="stable")
        q, ids, _ = self.bands.lookup(keys[order], limit)
        pos = order[q]
        by_pos = np.lexsort((ids, pos))
        return pos[by_pos], ids[by_pos]
