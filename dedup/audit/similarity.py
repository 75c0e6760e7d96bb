"""Best verified similarity of each paragraph to an earlier one: what a what-if table needs.

A run stops at the first earlier paragraph that passes its threshold, so its report says
nothing about the paragraphs it kept nor about other thresholds. Here every candidate is
verified and each paragraph keeps its *highest* exact Jaccard similarity to an earlier
paragraph in scope; "removed at threshold t" is then ``best >= t`` plus the short-paragraph
run rule, for every t at once, without re-running. The shortened-copy rule
(``DedupConfig.containment``) does not depend on the threshold, but its candidates do (a run
at t draws them from t's LSH layout): which paragraphs it removes is found per layout of the
thresholds asked for (:meth:`BestMatches.contained_at`).

Candidates come from two LSH layouts over the same MinHash signatures:

* the layout of a low ``floor`` threshold (0.5: a pair at 0.5 shares a band with
  probability 0.996, a pair at 0.8 with probability ~1), for near misses and low thresholds;
* the run's own layout, with the run's per-bucket cap (``max_bucket_candidates``, the
  earliest paragraphs of a bucket), so every pair a real run verifies is verified here too.

Hence, at the run's threshold, the paragraphs found here are a superset of what the run
removes, and they differ only by pairs the run's LSH did not bring together (its recall
misses), which the audit counts and shows. Exact repeats (identical shingle sets) are
found by set key and verified, as in the run; only first occurrences of a set enter buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from dedup.arrays import exclusive_cumsum, ragged_take
from dedup.config import DedupConfig
from dedup.decide.rules import apply_run_rule, inner_search_mask, scope_salt, shortened_copy
from dedup.decide.verify import jaccard_rows, overlap_rows
from dedup.decide.inner import InnerRepeat, find_inner_repeats
from dedup.fingerprint.lsh import LshLayout, band_keys, choose_layout
from dedup.fingerprint.minhash import signatures
from dedup.fingerprint.shingles import ShingleSets, shingle_sets

#: Lowest threshold the what-if table and the near-miss histogram look at.
FLOOR = 0.5
_U64 = np.uint64
_PAIR_CODES_MERGE = 1 << 24  # candidate pair codes held before de-duplicating them


@dataclass
class BestMatches:
    """Per paragraph (flat, input order): its best verified match among earlier paragraphs."""

    best: np.ndarray  #: float64 highest verified Jaccard to an earlier paragraph (0.0: none found)
    match: np.ndarray  #: int64 row of that earlier paragraph (-1: none); earliest among equals
    n_tokens: np.ndarray  #: int64 word tokens (for ``min_tokens``)
    set_sizes: np.ndarray  #: int64 distinct shingles (for the inner-repeat pre-filter)
    capped_buckets: int  #: LSH buckets with more members than the per-bucket cap allowed to read
    pairs_verified: int  #: candidate pairs whose exact similarity was computed
    layouts: List[LshLayout]  #: the candidate layouts used
    #: per LSH layout (bands, rows): bool mask, a shortened copy of one of that layout's candidates
    contained: Optional[Dict[Tuple[int, int], np.ndarray]] = None
    config: Optional[DedupConfig] = None  #: the settings analysed

    def contained_at(self, threshold: float) -> Optional[np.ndarray]:
        """The paragraphs a run at ``threshold`` removes as shortened copies (None: rule off)."""
        if self.contained is None or self.config is None:
            return None
        layout = self.config.replace(threshold=threshold).layout
        found = self.contained.get((layout.bands, layout.rows))
        if found is None:
            raise ValueError(f"threshold {threshold} was not among best_matches(thresholds=...)")
        return found


def best_matches(paragraphs: Sequence[str], doc_sizes: Union[Sequence[int], np.ndarray], config: DedupConfig,
                 floor: float = FLOOR, thresholds: Sequence[float] = ()) -> BestMatches:
    """Best verified match of every paragraph, in the scope of ``config`` (corpus or document).

    ``paragraphs`` are the paragraph strings of all documents in order; ``doc_sizes`` the
    number of paragraphs of each document (their sum is ``len(paragraphs)``). ``thresholds``:
    those :meth:`BestMatches.contained_at` will be asked for (besides ``config.threshold``).
    """
    sizes = np.asarray(doc_sizes, dtype=np.int64)
    n = len(paragraphs)
    if int(sizes.sum()) != n:
        raise ValueError(f"doc_sizes sum to {int(sizes.sum())}, but {n} paragraphs were given")
    sets = _sets(paragraphs, config)
    best = np.zeros(n, dtype=np.float64)
    match = np.full(n, -1, dtype=np.int64)
    layouts = _layouts(config, floor)
    own = {(lay.bands, lay.rows): lay for lay in
           (config.replace(threshold=t).layout for t in [config.threshold, *thresholds])}
    contained = {key: np.zeros(n, dtype=bool) for key in own} if config.shortened_rule else None
    if n == 0:
        return BestMatches(best, match, sets.n_tokens, np.diff(sets.offsets), 0, 0, layouts, contained, config)
    salt = scope_salt(sizes) if config.scope == "document" else None  # keys never meet across documents
    set_keys = sets.set_keys if salt is None else sets.set_keys ^ salt

    exact_verified = _exact_repeats(sets, set_keys, best, match)
    capped, near_verified = _near_repeats(sets, np.flatnonzero(match < 0), config, layouts, salt, best, match,
                                          contained, own)
    return BestMatches(best, match, sets.n_tokens, np.diff(sets.offsets), capped, exact_verified + near_verified,
                       layouts, contained, config)


def _exact_repeats(sets: ShingleSets, set_keys: np.ndarray, best: np.ndarray, match: np.ndarray) -> int:
    """Exact repeats: the earliest paragraph with the same set key, verified. Returns pairs verified."""
    n = len(set_keys)
    _, first_pos, inverse = np.unique(set_keys, return_index=True, return_inverse=True)
    first = first_pos[inverse.ravel()].astype(np.int64)
    dup = np.flatnonzero(first < np.arange(n))
    if len(dup):
        same = pair_jaccard(sets, dup, first[dup]) == 1.0
        best[dup[same]] = 1.0
        match[dup[same]] = first[dup[same]]
    return len(dup)


def _near_repeats(sets: ShingleSets, reps: np.ndarray, config: DedupConfig, layouts: List[LshLayout],
                  salt: Optional[np.ndarray], best: np.ndarray, match: np.ndarray,
                  contained: Optional[Dict[Tuple[int, int], np.ndarray]],
                  own: Dict[Tuple[int, int], LshLayout]) -> Tuple[int, int]:
    """Near repeats: first occurrences ``reps`` of each set share LSH buckets; every candidate is
    verified (Jaccard, and the shortened-copy rule). Returns (capped buckets, pairs verified)."""
    sub = sets.take(reps)
    sigs = signatures(sub.hashes, sub.offsets, config.num_perm, config.seed)
    sub_salt = None if salt is None else salt[reps]
    codes, capped = _candidate_codes(sigs, layouts, config.max_bucket_candidates, sub_salt)
    m = _U64(len(reps))
    for key, layout in own.items() if contained is not None else ():  # a run's own candidates
        assert contained is not None
        pairs, _ = _candidate_codes(sigs, [layout], config.max_bucket_candidates, sub_salt)
        q, c = (pairs // m).astype(np.int64), (pairs % m).astype(np.int64)
        off = sub.offsets
        la, lb = off[q + 1] - off[q], off[c + 1] - off[c]
        inter = overlap_rows(sub.hashes, off[q], la, sub.hashes, off[c], lb)
        contained[key][reps[q[shortened_copy(inter, la, lb, sub.n_tokens[q], config)]]] = True
    del sigs
    if len(codes):
        q = (codes // m).astype(np.int64)
        c = (codes % m).astype(np.int64)
        sims = pair_jaccard(sub, q, c)
        order = np.lexsort((c, -sims, q))  # per query: most similar first, earliest among equals
        q, c, sims = q[order], c[order], sims[order]
        head = np.r_[True, q[1:] != q[:-1]]
        best[reps[q[head]]] = sims[head]
        match[reps[q[head]]] = reps[c[head]]
    return capped, len(codes)


def removed_at(best: np.ndarray, n_tokens: np.ndarray, doc_sizes: Union[Sequence[int], np.ndarray], threshold: float,
               min_tokens: int, contained: Optional[np.ndarray] = None) -> np.ndarray:
    """Which paragraphs a run at ``threshold`` removes, given each one's best similarity.

    A repeat is ``best >= threshold`` or a shortened copy (``contained``; whether the earlier
    paragraph was removed or not does not matter, so there is no chaining to replay). The
    short-paragraph rule as in the run: a short repeat goes only inside a run of consecutive
    repeats, in one document, that holds a removed long paragraph.
    """
    repeat = best >= threshold if contained is None else (best >= threshold) | contained
    return apply_run_rule(repeat, n_tokens >= min_tokens, exclusive_cumsum(np.asarray(doc_sizes)))


def inner_repeats_at(paragraphs: Sequence[str], removed: np.ndarray, bm: BestMatches, config: DedupConfig,
                     threshold: float) -> List[Tuple[int, InnerRepeat]]:
    """Spans a run at ``threshold`` removes from inside the paragraphs it keeps: (row, repeat).

    The run's own rule (a long kept paragraph whose shingle set is much smaller than its
    shingle count holds a copied span; :func:`dedup.decide.inner.find_inner_repeats` finds and
    verifies it), evaluated at ``threshold``. Only a few paragraphs pass the pre-filter,
    so doing this once per threshold is cheap.
    """
    worth = inner_search_mask(config, bm.n_tokens, bm.set_sizes, threshold)
    out = []
    for row in np.flatnonzero(~removed & worth).tolist():
        for rep in find_inner_repeats(paragraphs[row], ngram=config.ngram, threshold=threshold,
                                      min_tokens=config.inner_min_tokens, normalization=config.normalization,
                                      unspaced=config.unspaced_scripts):
            out.append((row, rep))
    return out


def pair_jaccard(sets: ShingleSets, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of the set pairs ``(a[i], b[i])`` (:func:`dedup.decide.verify.jaccard_rows`)."""
    off = sets.offsets
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    return jaccard_rows(sets.hashes, off[a], off[a + 1] - off[a], sets.hashes, off[b], off[b + 1] - off[b])


def _layouts(config: DedupConfig, floor: float) -> List[LshLayout]:
    low = choose_layout(min(floor, config.threshold), config.num_perm, config.recall_target)
    run = config.layout
    if (low.bands, low.rows) == (run.bands, run.rows):
        return [run]
    return [low, run]


def _candidate_codes(sigs: np.ndarray, layouts: List[LshLayout], cap: int,
                     salt: Optional[np.ndarray]):
    """Unique candidate pairs ``query * n + candidate`` (candidate earlier), and capped buckets.

    Per band key, each member's candidates are the earliest ``min(position, cap)`` members,
    as in the run's index; a pair found in several bands or layouts is kept once.
    """
    n = sigs.shape[0]
    parts: List[np.ndarray] = []
    held = 0
    capped = 0
    codes = np.zeros(0, dtype=_U64)
    for layout in layouts:
        keys = band_keys(sigs, layout)
        if salt is not None:
            keys ^= salt[:, None]
        for band in range(layout.bands):
            col = keys[:, band]
            order = np.argsort(col, kind="stable")  # members of a key in input order
            sk = col[order]
            group_start = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
            sizes = np.diff(np.r_[group_start, n])
            capped += int(np.count_nonzero(sizes > cap + 1))
            group_of = np.repeat(group_start, sizes)
            count = np.minimum(np.arange(n) - group_of, cap)
            hits = np.flatnonzero(count > 0)
            if len(hits) == 0:
                continue
            cnt = count[hits]
            rel = ragged_take(np.zeros(len(cnt), dtype=np.int64), cnt)
            q = np.repeat(order[hits], cnt).astype(_U64)
            c = order[np.repeat(group_of[hits], cnt) + rel].astype(_U64)
            parts.append(q * _U64(n) + c)
            held += len(q)
            if held > _PAIR_CODES_MERGE:
                codes = np.unique(np.concatenate([codes] + parts))
                parts, held = [], len(codes)
    if parts:
        codes = np.unique(np.concatenate([codes] + parts))
    return codes, capped


def _sets(paragraphs: Sequence[str], config: DedupConfig) -> ShingleSets:
    """Shingle sets of all paragraphs, computed in batches of ``batch_paragraphs``."""
    step = config.batch_paragraphs
    if len(paragraphs) <= step:
        return shingle_sets(list(paragraphs), config.ngram, config.normalization, config.unspaced_scripts)
    chunks = [shingle_sets(list(paragraphs[i:i + step]), config.ngram, config.normalization,
                           config.unspaced_scripts)
              for i in range(0, len(paragraphs), step)]
    return ShingleSets.concat(chunks)
