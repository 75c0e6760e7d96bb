"""MinHash signatures for a batch of shingle sets, bit-compatible with datasketch 2.0.

The permutation scheme is datasketch's default ``affine32``: each 32-bit input hash is
pre-mixed with the MurmurHash3 finalizer, then ``a * h + b`` (mod 2**32, ``a`` odd) per
permutation, with ``(a, b)`` drawn from ``numpy.random.RandomState(seed)`` exactly as
datasketch draws them. So a signature converts to a ``datasketch.LeanMinHash`` and back,
and both libraries estimate the same Jaccard from it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Tuple

import numpy as np

from dedup._optional import require

from dedup.accel import jit
from dedup.arrays import offsets_of, ragged_take
from dedup.fingerprint.hashing import fmix32

# Work on at most this many (shingle, permutation) cells at once: bounds memory for a
# batch holding one huge paragraph as well as for many small ones.
_CELLS_PER_CHUNK = 1 << 22


@lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int = 1) -> Tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters datasketch's ``MinHash(num_perm, seed, scheme="affine32")`` uses."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    a.setflags(write=False)
    b.setflags(write=False)
    return a, b


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """(n, num_perm) uint32 signatures of the sets ``hashes[offsets[i]:offsets[i+1]]``.

    Every set must be non-empty. Equal to datasketch's ``MinHash.update_batch`` over the
    same 32-bit values with an identity hash function.
    """
    n = len(offsets) - 1
    if n == 0:
        return np.empty((0, num_perm), dtype=np.uint32)
    kernels = jit.kernels()
    offsets = np.asarray(offsets, dtype=np.int64)
    if kernels is not None and bool(np.all(offsets[1:] > offsets[:-1])):
        a, b = permutations(num_perm, seed)
        return kernels.minhash_rows(np.ascontiguousarray(hashes, dtype=np.uint32), offsets,
                                    np.arange(n, dtype=np.int64), a, b)
    return signatures_numpy(hashes, offsets, num_perm, seed)


def signatures_numpy(hashes: np.ndarray, offsets: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """The reference path of :func:`signatures`, in numpy."""
    n = len(offsets) - 1
    out = np.empty((n, num_perm), dtype=np.uint32)
    if n == 0:
        return out
    a, b = permutations(num_perm, seed)
    mixed = fmix32(np.ascontiguousarray(hashes, dtype=np.uint32))
    total = len(mixed)
    # Chunk over paragraphs (rows of the flat array) and over permutations (columns).
    perm_step = max(1, min(num_perm, _CELLS_PER_CHUNK // max(1, total)))
    if perm_step >= 8 or total <= _CELLS_PER_CHUNK // 8:
        for p0 in range(0, num_perm, perm_step):
            p1 = min(num_perm, p0 + perm_step)
            cells = mixed[:, None] * a[None, p0:p1] + b[None, p0:p1]
            out[:, p0:p1] = np.minimum.reduceat(cells, offsets[:-1], axis=0)
        return out
    # A very large batch (e.g. one 50 MB paragraph): one set at a time, in slices.
    for i in range(n):
        out[i] = _signature_of_large_set(mixed[offsets[i]:offsets[i + 1]], a, b)
    return out


def minhash_rows(sets, rows: np.ndarray, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """Signatures of some rows of a :class:`~dedup.fingerprint.shingles.ShingleSets` (``signatures`` of a subset)."""
    rows = np.asarray(rows, dtype=np.int64)
    offsets = np.asarray(sets.offsets, dtype=np.int64)
    if len(rows) == len(offsets) - 1:
        return signatures(sets.hashes, offsets, num_perm, seed)
    kernels = jit.kernels()
    if kernels is not None and len(rows) and bool(np.all(offsets[rows + 1] > offsets[rows])):
        a, b = permutations(num_perm, seed)
        return kernels.minhash_rows(np.ascontiguousarray(sets.hashes, dtype=np.uint32), offsets, rows, a, b)
    lengths = offsets[rows + 1] - offsets[rows]
    return signatures_numpy(sets.hashes[ragged_take(offsets[rows], lengths)], offsets_of(lengths), num_perm, seed)


def _signature_of_large_set(mixed: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sig = np.full(len(a), np.iinfo(np.uint32).max, dtype=np.uint32)
    step = max(1, _CELLS_PER_CHUNK // len(a))
    for s in range(0, len(mixed), step):
        cells = mixed[s:s + step, None] * a[None, :] + b[None, :]
        np.minimum(sig, cells.min(axis=0), out=sig)
    return sig


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Fraction of equal signature values: the MinHash estimate of the Jaccard similarity."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def to_lean_minhash(signature: np.ndarray, seed: int = 1):
    """A ``datasketch.LeanMinHash`` holding this signature (needs the ``datasketch`` extra)."""
    datasketch = require("datasketch", "datasketch", "to_lean_minhash()")
    return datasketch.LeanMinHash(seed=seed, hashvalues=np.asarray(signature, dtype=np.uint32), scheme="affine32")


def from_minhash(minhash) -> np.ndarray:
    """The signature array of a datasketch ``MinHash``/``LeanMinHash`` (affine32 scheme)."""
    scheme = getattr(minhash, "scheme", "affine32")
    if scheme != "affine32":
        raise ValueError(f"only datasketch's 'affine32' scheme is compatible, got {scheme!r}")
    return np.asarray(minhash.hashvalues, dtype=np.uint32).copy()
