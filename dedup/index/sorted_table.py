"""An append-only multimap uint64 key -> entry id, as sorted runs in one flat buffer.

Why not a dict: a Python dict costs ~100 bytes per key and one interpreter call per
lookup; sorted runs cost 12 bytes per pair (uint64 key, uint32 id) and answer a whole
batch of keys in one pass. Each ``add`` appends a sorted run; the last two runs merge
while the older is at most twice the newer (like an LSM tree), so appending stays
amortized O(log n) per pair and a lookup visits O(log n) runs. Keys are uniform 64-bit
hashes, so each run keeps a directory over their top bits (one uint32 per ~16 pairs): a
lookup jumps to its bucket and binary-searches a few keys, whatever the run's size.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np

from dedup.accel import jit
from dedup.arrays import ragged_take

_ID_LIMIT = 1 << 32
_PAIRS_PER_BUCKET = 4
_MERGE_RATIO = 4  # merge the newest runs while the older is at most this many times the newer


def _directory_bits(run_length: int) -> int:
    return max(0, run_length.bit_length() - 1 - _PAIRS_PER_BUCKET.bit_length() + 1)


def _directory(keys: np.ndarray, lo: int, hi: int, bits: int) -> np.ndarray:
    kernels = jit.kernels()
    if kernels is not None:
        return kernels.run_directory(keys, lo, hi, bits)
    if bits == 0:
        return np.array([0, hi - lo], dtype=np.uint32)
    top = keys[lo:hi] >> np.uint64(64 - bits)
    return np.searchsorted(top, np.arange((1 << bits) + 1, dtype=np.uint64)).astype(np.uint32)


def stable_argsort(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")``, faster: a SIMD sort, then ties put back in order."""
    kernels = jit.kernels()
    if kernels is None or len(keys) < 64:
        return np.argsort(keys, kind="stable")
    order = np.argsort(keys)
    kernels.stabilize_order(keys[order], order)
    return order


class SortedTable:
    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.uint64)
        self._ids = np.zeros(0, dtype=np.uint32)
        self._size = 0
        self._bounds: List[int] = [0]  # run i is [bounds[i], bounds[i+1]), oldest first
        self._run_bits: List[int] = []  # directory of run i: _dir[_run_dir[i]:][:2**bits + 1]
        self._run_dir: List[int] = []
        self._dir = np.zeros(0, dtype=np.uint32)
        self._dir_size = 0
        self._run_arrays: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None  # the three lists, for kernels

    def __len__(self) -> int:
        return self._size

    @property
    def nbytes(self) -> int:
        """Bytes of the stored pairs (12 per pair) and of the run directories (~0.25 per pair)."""
        return self._size * (self._keys.itemsize + self._ids.itemsize) + self._dir_size * self._dir.itemsize

    def add(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """Append pairs; every id must be larger than every id already stored."""
        if len(keys) == 0:
            return
        keys = np.asarray(keys, dtype=np.uint64)
        order = stable_argsort(keys)
        self.add_sorted(keys[order], ids[order])

    def add_sorted(self, keys: np.ndarray, ids: np.ndarray) -> None:
        """:meth:`add` for pairs already sorted by (key, id)."""
        n = len(keys)
        if n == 0:
            return
        if int(ids.max()) >= _ID_LIMIT:
            raise OverflowError(f"SortedTable holds entry ids below 2**32, got {int(ids.max())}")
        need = self._size + n
        if need > len(self._keys):
            capacity = max(need, len(self._keys) + len(self._keys) // 2, 1024)
            self._keys = self._grow("keys", self._keys, self._size, capacity)
            self._ids = self._grow("ids", self._ids, self._size, capacity)
            self._dir = self._grow("dir", self._dir, self._dir_size, max(len(self._dir), capacity // 8 + 64))
        self._keys[self._size:need] = keys
        self._ids[self._size:need] = ids
        self._size = need
        self._run_arrays = None
        self._bounds.append(need)
        self._run_dir.append(self._dir_size)
        self._run_bits.append(0)
        b = self._bounds
        while len(b) >= 3 and b[-2] - b[-3] <= _MERGE_RATIO * (b[-1] - b[-2]):
            self._merge(b[-3], b[-2], b[-1])
            del b[-2]
            del self._run_dir[-1], self._run_bits[-1]
        # (re)build the directory of the last run, which sits at the end of the directory buffer
        lo, hi = b[-2], b[-1]
        bits = _directory_bits(hi - lo)
        directory = _directory(self._keys, lo, hi, bits)
        start = self._run_dir[-1]
        if start + len(directory) > len(self._dir):
            self._dir = self._grow("dir", self._dir, start, max(start + len(directory), len(self._dir) * 3 // 2, 64))
        self._will_write("dir", start, start + len(directory))
        self._dir[start:start + len(directory)] = directory
        self._dir_size = start + len(directory)
        self._run_bits[-1] = bits

    def _grow(self, name: str, array: np.ndarray, used: int, capacity: int) -> np.ndarray:
        """Room for ``capacity`` items in buffer ``name`` (keys, ids, dir); a subclass may keep
        the buffers elsewhere (``dedup.index.compact`` keeps them in files)."""
        return _grown(array, used, capacity)

    def _will_write(self, name: str, lo: int, hi: int) -> None:
        """Items ``[lo, hi)`` of buffer ``name`` are about to be written over (a merge, a run's
        directory); a subclass that persists the buffers saves what was there first."""

    def _merge(self, lo: int, mid: int, hi: int) -> None:
        self._will_write("keys", lo, hi)
        self._will_write("ids", lo, hi)
        kernels = jit.kernels()
        if kernels is not None:
            kernels.merge_runs(self._keys, self._ids, lo, mid, hi)
            return
        order = np.argsort(self._keys[lo:hi], kind="stable")  # older run first: ids stay sorted
        self._keys[lo:hi] = self._keys[lo:hi][order]
        self._ids[lo:hi] = self._ids[lo:hi][order]

    def lookup_sorted(self, sorted_keys: np.ndarray, positions: np.ndarray, limit: int
                      ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`lookup` for keys already sorted; ``positions[i]`` is reported for key i.

        Sorted keys walk each run forward, which is kinder to memory than random order.
        """
        kernels = jit.kernels()
        if kernels is None or not len(sorted_keys) or not self._size:
            q, ids, taken_sorted = self.lookup(sorted_keys, limit)
            taken = np.zeros(len(sorted_keys), dtype=np.int64)
            taken[positions] = taken_sorted
            return positions[q], ids, taken
        return self._lookup_compiled(kernels, sorted_keys, positions, limit)

    def _lookup_compiled(self, kernels, keys, positions, limit):
        if getattr(self, "_run_arrays", None) is None:  # made once per add, not per lookup (one per document, in a loop of calls)
            self._run_arrays = (np.asarray(self._bounds, dtype=np.int64), np.asarray(self._run_bits, dtype=np.int64),
                                np.asarray(self._run_dir, dtype=np.int64))
        bounds, run_bits, run_dir = self._run_arrays
        return kernels.runs_lookup(self._keys, self._ids, bounds, run_bits, run_dir, self._dir, keys,
                                   np.asarray(positions, dtype=np.int64), int(limit))

    def first(self, keys: np.ndarray) -> np.ndarray:
        """Smallest id stored under each key, or -1."""
        keys = np.asarray(keys, dtype=np.uint64)
        out = np.full(len(keys), -1, dtype=np.int64)
        pos, ids, _ = self.lookup(keys, 1)
        out[pos] = ids
        return out

    def lookup(self, keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query position, id) pairs: per key its earliest ``limit`` ids; plus ids taken per key.

        Pairs of one key come in increasing id order.
        """
        keys = np.asarray(keys, dtype=np.uint64)
        kernels = jit.kernels()
        if kernels is not None and len(keys) and self._size:
            return self._lookup_compiled(kernels, keys, np.arange(len(keys), dtype=np.int64), limit)
        taken = np.zeros(len(keys), dtype=np.int64)
        q_parts, id_parts = [], []
        for lo, hi in zip(self._bounds[:-1], self._bounds[1:]):
            seg_keys, seg_ids = self._keys[lo:hi], self._ids[lo:hi]
            left = np.searchsorted(seg_keys, keys, side="left")
            right = np.searchsorted(seg_keys, keys, side="right")
            count = np.minimum(right - left, limit - taken)
            hits = np.flatnonzero(count > 0)
            if len(hits) == 0:
                continue
            c = count[hits]
            q_parts.append(np.repeat(hits, c))
            id_parts.append(seg_ids[ragged_take(left[hits], c)].astype(np.int64))
            taken[hits] += c
        if not q_parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy(), taken
        return np.concatenate(q_parts), np.concatenate(id_parts), taken


def _grown(array: np.ndarray, used: int, capacity: int) -> np.ndarray:
    """``array`` with room for ``capacity`` items, its first ``used`` kept.

    The table's buffers are private (no view of them outlives a call), so they can grow
    in place: ``resize`` reallocates, which for large buffers remaps pages instead of
    copying them.
    """
    if capacity <= len(array):
        return array
    if array.flags.owndata and array.base is None:
        try:
            array.resize(capacity, refcheck=False)
            return array
        except (ValueError, SystemError):
            pass
    grown = np.empty(capacity, dtype=array.dtype)
    grown[:used] = array[:used]
    return grown
