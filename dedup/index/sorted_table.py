"""An append-only multimap uint64 key -> entry id, as sorted numpy segments.

Why not a dict: a Python dict costs ~100 bytes per key and one interpreter call per
lookup; sorted arrays cost 16 bytes per pair and answer a whole batch of keys with one
``searchsorted``. Segments are merged geometrically (like an LSM tree), so appending
stays amortized O(log n) per pair and a lookup touches O(log n) segments.
"""

from __future__ import annotations

from typing import List, Tuple

import numpy as np


class SortedTable:
    def __init__(self) -> None:
        self._keys: List[np.ndarray] = []
        self._ids: List[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(k) for k in self._keys)

    @property
    def nbytes(self) -> int:
        return sum(k.nbytes + i.nbytes for k, i in zip(self._keys, self._ids))

    def add(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Append pairs; every id must be larger than every id already stored."""
        if len(keys) == 0:
            return
        order = np.lexsort((ids, keys))
        self._keys.append(np.ascontiguousarray(keys[order], dtype=np.uint64))
        self._ids.append(np.ascontiguousarray(ids[order], dtype=np.int64))
        while len(self._keys) >= 2 and len(self._keys[-2]) <= 2 * len(self._keys[-1]):
            k2, i2 = self._keys.pop(), self._ids.pop()
            k1, i1 = self._keys.pop(), self._ids.pop()
            keys_m = np.concatenate((k1, k2))
            order = np.argsort(keys_m, kind="stable")  # older segment first: ids stay sorted
            self._keys.append(keys_m[order])
            self._ids.append(np.concatenate((i1, i2))[order])

    def first(self, keys: np.ndarray) -> np.ndarray:
        """Smallest id stored under each key, or -1."""
        out = np.full(len(keys), -1, dtype=np.int64)
        for seg_keys, seg_ids in zip(self._keys, self._ids):  # oldest segment first
            todo = np.flatnonzero(out < 0)
            if len(todo) == 0:
                break
            pos = np.searchsorted(seg_keys, keys[todo])
            pos_c = np.minimum(pos, len(seg_keys) - 1)
            hit = seg_keys[pos_c] == keys[todo]
            out[todo[hit]] = seg_ids[pos_c[hit]]
        return out

    def lookup(self, keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query position, id) pairs: per key its earliest ``limit`` ids; plus ids taken per key."""
        taken = np.zeros(len(keys), dtype=np.int64)
        q_parts, id_parts = [], []
        for seg_keys, seg_ids in zip(self._keys, self._ids):
            lo = np.searchsorted(seg_keys, keys, side="left")
            hi = np.searchsorted(seg_keys, keys, side="right")
            count = np.minimum(hi - lo, limit - taken)
            hits = np.flatnonzero(count > 0)
            if len(hits) == 0:
                continue
            c = count[hits]
            rel = np.arange(c.sum(), dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
            q_parts.append(np.repeat(hits, c))
            id_parts.append(seg_ids[np.repeat(lo[hits], c) + rel])
            taken[hits] += c
        if not q_parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), taken
        return np.concatenate(q_parts), np.concatenate(id_parts), taken
