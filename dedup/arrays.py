"""The numpy idioms every stage uses on ragged data (concatenated rows with offsets), written once."""

from __future__ import annotations

import numpy as np


def exclusive_cumsum(counts: np.ndarray) -> np.ndarray:
    """Where each row starts when rows of these sizes are laid end to end (``[0, c0, c0+c1, ...]``, n long)."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.cumsum(counts) - counts


def offsets_of(counts: np.ndarray) -> np.ndarray:
    """Offsets (n + 1 long, starting at 0) of rows of these sizes laid end to end."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def ragged_take(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Positions ``starts[i] .. starts[i] + lengths[i] - 1`` for every i, concatenated (a gather index)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    return np.repeat(np.asarray(starts, dtype=np.int64) - exclusive_cumsum(lengths), lengths) + np.arange(
        total, dtype=np.int64)


def row_of(counts: np.ndarray) -> np.ndarray:
    """For each element of rows of these sizes laid end to end, the row it belongs to."""
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)
