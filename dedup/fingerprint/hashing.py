"""Integer mixing on numpy arrays: the arithmetic shared by shingles, signatures and LSH.

All arithmetic wraps around in unsigned integers on purpose (that *is* the modulo).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

_U64 = np.uint64
_U32 = np.uint32

# Odd 64-bit multipliers for position-weighted sums (from the golden ratio and splitmix64).
_MULTIPLIERS = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
     0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3,
     0x1D8E4E27C47D124F, 0xF1357AEA2E62A9C5, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
     0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53],
    dtype=np.uint64,
)


def multiplier(i: int) -> np.uint64:
    """The i-th odd 64-bit multiplier (extended deterministically past the table)."""
    if i < len(_MULTIPLIERS):
        return _MULTIPLIERS[i]
    with np.errstate(over="ignore"):
        return fmix64(np.array([i], dtype=_U64))[0] | _U64(1)


@lru_cache(maxsize=64)
def multipliers(k: int) -> np.ndarray:
    """The first ``k`` multipliers as one uint64 array, made once per ``k`` (shared: do not write
    to it; it stays writable because a read-only array is another type to the kernels)."""
    return np.array([multiplier(i) for i in range(k)], dtype=_U64)


def _finalize(h: np.ndarray, shifts: tuple, mults: tuple) -> np.ndarray:
    """The finalizers' shape on a copy of ``h``: ``h = (h ^ h >> s) * m`` per round, then ``h ^ h >> s``."""
    kind = h.dtype.type
    h = h.copy()
    for shift, mult in zip(shifts, mults):
        h ^= h >> kind(shift)
        h *= kind(mult)
    h ^= h >> kind(shifts[-1])
    return h


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (the pre-mix datasketch's affine32 scheme applies)."""
    return _finalize(h, (16, 13, 16), (0x85EBCA6B, 0xC2B2AE35))


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finalizer: an avalanching bijection on uint64."""
    return _finalize(h, (33, 33, 33), (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53))


def combine_columns(block: np.ndarray, salt: int = 0) -> np.ndarray:
    """One uint64 hash per row of ``block`` (n, k): order-sensitive, mixed with ``salt``."""
    n, k = block.shape
    with np.errstate(over="ignore"):
        acc = np.full(n, _U64(salt) * multiplier(15), dtype=_U64)
        for i in range(k):
            acc += block[:, i].astype(_U64) * multiplier(i)
    return fmix64(acc)
