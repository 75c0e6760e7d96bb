"""Character shingles of the noisy-copy rules (``DedupConfig.noisy_rules``), in numpy.

A unit's noisy tokens (:func:`dedup.text.noisy.noisy_tokens`) joined by one space, every run of
digits one ``0``, cut into ``ngram``-character pieces (the whole text when shorter), each hashed
as a word n-gram is (its code points times the position multipliers, plus the length term,
through fmix64, the high 32 bits): a sorted set of unique uint32. The compiled engine computes
the same set; this is the reference a reported similarity is recomputed with
(:func:`noisy_similarity`).
"""

from __future__ import annotations

import re
from typing import Sequence, Tuple

import numpy as np

from dedup.fingerprint.hashing import fmix64, multiplier, multipliers
from dedup.text.noisy import noisy_tokens

_U64 = np.uint64
_DIGITS = re.compile(r"\d+")
_LENGTH_MULTIPLIER = 14  # as word n-grams (dedup.engine.compiled)


def char_shingle_set(tokens: Sequence[str], ngram: int = 5) -> np.ndarray:
    """The character shingle set of noisy ``tokens`` (sorted unique uint32)."""
    text = _DIGITS.sub("0", " ".join(tokens))
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(_U64)
    n = len(cps)
    if n == 0:
        return np.zeros(0, dtype=np.uint32)
    width = min(ngram, n)
    count = n - width + 1
    mult = multipliers(width)
    with np.errstate(over="ignore"):
        acc = np.full(count, _U64(width) * multiplier(_LENGTH_MULTIPLIER), dtype=_U64)
        for k in range(width):
            acc += cps[k:k + count] * mult[k]
        out = (fmix64(acc) >> _U64(32)).astype(np.uint32)
    return np.unique(out)


def noisy_similarity(later: str, earlier: str, ngram: int = 5) -> Tuple[float, float]:
    """(character Jaccard, containment of ``later`` in ``earlier``) of two units' texts: the values
    a ``"noisy"`` / ``"noisy-contained"`` removal reports."""
    a = char_shingle_set(noisy_tokens(later)[0], ngram)
    b = char_shingle_set(noisy_tokens(earlier)[0], ngram)
    inter = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - inter
    return (inter / union if union else 1.0), (inter / len(a) if len(a) else 0.0)
