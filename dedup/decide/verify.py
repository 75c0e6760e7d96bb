"""Exact similarity of two shingle sets: what decides a removal (never the estimate).

The one Python home of the exact Jaccard (the compiled kernels in :mod:`dedup.accel`
compute the same float): one pair at a time, or many pairs of ragged rows at once.
"""

from __future__ import annotations

import numpy as np

from dedup.arrays import ragged_take

_U64 = np.uint64
_VERIFY_CHUNK = 1 << 22  # shingle hashes compared per vectorized step


def overlap_sorted(a: np.ndarray, b: np.ndarray) -> int:
    """``|a & b|`` of two sorted arrays of unique values."""
    if len(a) > len(b):
        a, b = b, a
    if len(a) == 0:
        return 0
    pos = np.searchsorted(b, a)
    pos[pos == len(b)] = 0
    return int(np.count_nonzero(b[pos] == a))


def jaccard_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of unique values."""
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) == len(b) else 0.0
    inter = overlap_sorted(a, b)
    return inter / (len(a) + len(b) - inter)


def jaccard_rows(pool_a: np.ndarray, starts_a: np.ndarray, lengths_a: np.ndarray, pool_b: np.ndarray,
                 starts_b: np.ndarray, lengths_b: np.ndarray) -> np.ndarray:
    """Exact Jaccard of each pair ``(pool_a[starts_a[i]:+lengths_a[i]], pool_b[starts_b[i]:+lengths_b[i]])``.

    Rows are sorted unique uint32 values (shingle sets, never empty); the same float as
    :func:`jaccard_sorted` (``inter / union`` of exact counts), vectorized in chunks.
    """
    la = np.asarray(lengths_a, dtype=np.int64)
    lb = np.asarray(lengths_b, dtype=np.int64)
    inter = overlap_rows(pool_a, starts_a, la, pool_b, starts_b, lb)
    return inter / (la + lb - inter)


def overlap_rows(pool_a: np.ndarray, starts_a: np.ndarray, lengths_a: np.ndarray, pool_b: np.ndarray,
                 starts_b: np.ndarray, lengths_b: np.ndarray) -> np.ndarray:
    """``|a & b|`` of each pair of rows, as :func:`jaccard_rows` takes them (int64)."""
    la = np.asarray(lengths_a, dtype=np.int64)
    lb = np.asarray(lengths_b, dtype=np.int64)
    out = np.empty(len(la), dtype=np.int64)
    cum = np.cumsum(la + lb)
    lo = 0
    while lo < len(la):
        base = cum[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(cum, base + _VERIFY_CHUNK, side="right")), lo + 1)
        sl = slice(lo, hi)
        pair = np.arange(hi - lo, dtype=_U64)
        key_a = (np.repeat(pair, la[sl]) << _U64(32)) | pool_a[ragged_take(starts_a[sl], la[sl])].astype(_U64)
        key_b = (np.repeat(pair, lb[sl]) << _U64(32)) | pool_b[ragged_take(starts_b[sl], lb[sl])].astype(_U64)
        pos = np.searchsorted(key_b, key_a)
        pos[pos == len(key_b)] = 0
        hit = key_b[pos] == key_a
        out[sl] = np.bincount((key_a[hit] >> _U64(32)).astype(np.int64), minlength=hi - lo)
        lo = hi
    return out
