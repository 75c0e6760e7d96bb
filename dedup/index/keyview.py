"""In-process lookup tables (exact set keys, LSH band keys) rebuilt from stored key runs.

Why in process: a random-key B-tree of band keys on disk gets slower as it grows. Every
batch commit dirties most of its pages (21 keys per paragraph scatter over the whole
tree), so a commit rewrites a large part of the table. Sorted numpy tables answer a whole
batch with a few ``searchsorted`` calls. The persistent indexes store each batch's keys
as one appended *run* and load the runs into these tables; the tables are a cache,
and the runs on disk are the truth.
"""

from __future__ import annotations

from typing import Tuple

import numpy as np

from dedup.index.sorted_table import SortedTable


class KeyView:
    """Exact-set and band-key tables for entries ``0 .. len - 1``, appended in id order."""

    def __init__(self) -> None:
        self.exact = SortedTable()
        self.bands = SortedTable()
        self.len = 0  # entries covered (the next id)

    @property
    def nbytes(self) -> int:
        return self.exact.nbytes + self.bands.nbytes

    def add_run(self, ids: np.ndarray, set_keys: np.ndarray, band_keys: np.ndarray) -> None:
        """Keys of stored entries ``ids`` (increasing, all >= every id already held)."""
        if len(ids) == 0:
            return
        self.exact.add(set_keys, ids)
        self.bands.add(band_keys.ravel(), np.repeat(ids, band_keys.shape[1]))

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(set_keys, dtype=np.uint64)
        order = np.argsort(keys, kind="stable")  # sorted needles: searchsorted stays in cache
        out = np.empty(len(keys), dtype=np.int64)
        out[order] = self.exact.first(keys[order])
        return out

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        keys = np.asarray(band_keys, dtype=np.uint64).ravel()
        order = np.argsort(keys, kind="stable")
        q, ids, _ = self.bands.lookup(keys[order], limit)
        pos = order[q]
        by_pos = np.lexsort((ids, pos))
        return pos[by_pos], ids[by_pos]
