"""The decision rules every backend applies after matching: one copy each.

The deduplicator, the Spark backend and the audit's what-if tables all decide with these
functions, so a paragraph's fate cannot depend on which of them ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Hashable, List, Optional, Sequence

import numpy as np

from dedup.arrays import row_of
from dedup.decide.inner import InnerRepeat
from dedup.results import Removal

if TYPE_CHECKING:
    from dedup.config import DedupConfig

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def apply_run_rule(is_repeat: np.ndarray, long_enough: np.ndarray,
                   doc_first: Optional[np.ndarray] = None) -> np.ndarray:
    """Removed paragraphs of a batch whose documents start at rows ``doc_first`` (one document if None).

    A repeat with enough tokens is removed. A short repeat (a heading, a byline) is
    removed only inside a run of consecutive repeats (within its document) that holds a
    removed long one: the second copy of an article loses its title too, a lone
    recurring "Features:" stays.
    """
    removed = is_repeat & long_enough
    short = is_repeat & ~long_enough
    if not short.any() or not removed.any():
        return removed
    n = len(is_repeat)
    boundary = np.r_[True, is_repeat[1:] != is_repeat[:-1]]
    if doc_first is not None:
        boundary[doc_first[doc_first < n]] = True
    run_id = np.cumsum(boundary) - 1
    has_long = np.zeros(int(run_id[-1]) + 1, dtype=bool)
    has_long[run_id[removed]] = True
    return removed | (short & has_long[run_id])


def removal_reasons(long_enough: np.ndarray, exact: np.ndarray, contained: Optional[np.ndarray] = None) -> List[str]:
    """The ``Removal.reason`` of removed paragraphs: "run" (short), else "exact", "contained"
    (the shortened-copy rule) or "near"."""
    other = "near" if contained is None else np.where(contained, "contained", "near")
    return np.where(~long_enough, "run", np.where(exact, "exact", other)).tolist()


def reasons_of(config: "DedupConfig") -> List[str]:
    """The ``Removal.reason`` values a run under ``config`` can give (what a summary counts)."""
    out = ["exact", "near", "run", "inner"]
    if config.shortened_rule:
        out.append("contained")
    if config.noisy_rules is not None:
        out += ["noisy", "noisy-contained"]
    if config.exact_substrings is not None:
        out.append("substring")
    return out


def shortened_copy(inter: np.ndarray, size: np.ndarray, other_size: np.ndarray, n_tokens: np.ndarray,
                   config: "DedupConfig") -> np.ndarray:
    """The shortened-copy rule (``DedupConfig.containment``), given the overlap of a later unit's
    set (``size`` shingles, ``n_tokens`` tokens) with an earlier unit's (``other_size``): a mask.
    The compiled engine applies the same comparisons, in the same floating point."""
    size = np.asarray(size, dtype=np.int64)
    if not config.shortened_rule:
        return np.zeros(len(size), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(size > 0, np.asarray(inter) / np.maximum(size, 1), 0.0)
    return ((size > 0) & (np.asarray(n_tokens) >= config.containment_min_tokens)
            & (size.astype(np.float64) >= config.containment_min_size * np.asarray(other_size, dtype=np.float64))
            & (share >= config.containment))


def worth_searching(n_tokens: np.ndarray, set_sizes: np.ndarray, *, ngram: int, threshold: float,
                    min_tokens: int) -> np.ndarray:
    """Which paragraphs can hold an inner repeat at all (a mask; the rest are skipped).

    A paragraph needs more than ``min_tokens`` tokens (a periodic repeat's source, its first
    period, can be one sentence). And a copy of P >= min_tokens - ngram + 1
    n-gram positions whose set has Jaccard >= threshold with its earlier source shares at
    least ``threshold * |copy set|`` distinct n-grams with it, each at a position that
    repeats an earlier one; the copy's own duplicates repeat too. So at least
    ``threshold * P`` positions repeat: the paragraph's n-gram count exceeds its set size
    by that much. The bound is exact, so the filter never drops a paragraph that
    :func:`dedup.decide.inner.find_inner_repeats` would cut.
    """
    repeated = (n_tokens - ngram + 1) - set_sizes
    return (n_tokens > min_tokens) & (n_tokens > ngram) & (repeated >= threshold * (min_tokens - ngram + 1))


def inner_search_mask(config: "DedupConfig", n_tokens: np.ndarray, set_sizes: np.ndarray,
                      threshold: Optional[float] = None) -> np.ndarray:
    """Units worth a search for a repeat inside themselves under ``config`` (at ``threshold``,
    the config's by default): none unless inner repeats are on and units are paragraphs."""
    if not config.inner_repeats or config.granularity != "paragraph":
        return np.zeros(len(n_tokens), dtype=bool)
    return worth_searching(n_tokens, set_sizes, ngram=config.ngram,
                           threshold=config.threshold if threshold is None else threshold,
                           min_tokens=config.inner_min_tokens)


def scope_salt(doc_sizes: np.ndarray) -> np.ndarray:
    """Per row, a salt distinct for each document: XORed into set and band keys in document
    scope, so keys of different documents never meet."""
    return (row_of(doc_sizes).astype(np.uint64) + np.uint64(1)) * _GOLDEN


def inner_removals(doc_id: Optional[Hashable], index: int, start: int,
                   repeats: Sequence[InnerRepeat]) -> List[Removal]:
    """The removals of the repeats found inside paragraph ``index`` (at ``start`` in its document)."""
    return [Removal(index, start + rep.start, start + rep.end, doc_id, index, start + rep.source_start,
                    start + rep.source_end, rep.similarity, "inner") for rep in repeats]
