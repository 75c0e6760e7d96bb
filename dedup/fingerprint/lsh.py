"""LSH band layout derived from the threshold, and band keys for a batch of signatures.

A pair with Jaccard ``s`` shares at least one of ``b`` bands of ``r`` rows with
probability ``1 - (1 - s**r)**b``. We pick the layout so that a pair exactly at the
threshold is found with probability >= ``recall_target`` (datasketch's default layout for
0.8/128 finds it ~40% of the time), and keep ``r`` as large as that allows so that
dissimilar pairs rarely collide. Candidates are verified afterwards, so extra candidates
cost time, never precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from dedup.accel import jit
from dedup.fingerprint.hashing import combine_columns, multiplier, multipliers


@dataclass(frozen=True)
class LshLayout:
    """``bands`` x ``rows`` permutations used for banding (``bands * rows <= num_perm``)."""

    bands: int
    rows: int
    threshold: float

    def probability(self, similarity: float) -> float:
        """Probability that a pair with this Jaccard similarity becomes a candidate."""
        return 1.0 - (1.0 - similarity ** self.rows) ** self.bands

    @property
    def recall_at_threshold(self) -> float:
        return self.probability(self.threshold)

    def __str__(self) -> str:
        return (f"{self.bands} bands x {self.rows} rows "
                f"(P[candidate | J={self.threshold:g}] = {self.recall_at_threshold:.4f})")


def choose_layout(threshold: float, num_perm: int, recall_target: float = 0.99, *,
                  bands: Optional[int] = None, rows: Optional[int] = None) -> LshLayout:
    """The layout with the most rows per band that still reaches ``recall_target``.

    With ``rows`` fixed, all the bands the permutations allow are used (more recall for
    free in signature cost). Explicit ``bands`` and ``rows`` are taken as given.
    """
    if bands is not None and rows is not None:
        if bands * rows > num_perm:
            raise ValueError(f"bands * rows must be <= num_perm: {bands} * {rows} > {num_perm}")
        return LshLayout(bands, rows, threshold)
    if bands is not None:
        return LshLayout(bands, max(1, num_perm // bands), threshold)
    if rows is not None:
        if rows > num_perm:
            raise ValueError(f"rows must be <= num_perm: {rows} > {num_perm}")
        return LshLayout(num_perm // rows, rows, threshold)
    for r in range(num_perm, 0, -1):
        b = num_perm // r
        if b >= 1 and LshLayout(b, r, threshold).recall_at_threshold >= recall_target:
            return LshLayout(b, r, threshold)
    raise ValueError(
        f"num_perm={num_perm} is too small to find pairs at threshold={threshold} with "
        f"probability {recall_target}: even {num_perm} bands of 1 row reach only "
        f"{LshLayout(num_perm, 1, threshold).recall_at_threshold:.4f}; raise num_perm"
    )


def band_keys(signatures: np.ndarray, layout: LshLayout) -> np.ndarray:
    """(n, bands) uint64 keys: one 64-bit hash per band of each signature.

    The band number is mixed into the key, so one flat table can hold every band.
    """
    kernels = jit.kernels()
    if kernels is not None and signatures.dtype == np.uint32 and signatures.ndim == 2:
        return kernels.band_keys(np.ascontiguousarray(signatures), layout.bands, layout.rows,
                                 multipliers(layout.rows), multiplier(15))
    return band_keys_numpy(signatures, layout)


def band_keys_numpy(signatures: np.ndarray, layout: LshLayout) -> np.ndarray:
    """The reference path of :func:`band_keys`, in numpy."""
    n = signatures.shape[0]
    keys = np.empty((n, layout.bands), dtype=np.uint64)
    for band in range(layout.bands):
        block = signatures[:, band * layout.rows:(band + 1) * layout.rows]
        keys[:, band] = combine_columns(block, salt=band + 1)
    return keys
