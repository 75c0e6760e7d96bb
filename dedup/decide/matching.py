"""Which earlier paragraph does each row of a batch repeat? The decision rule, vectorized.

1. Exact repeats: the earliest paragraph with the same set key (index first, then this
   batch), taken only when the shingle sets are really equal.
2. Near repeats (rows left): candidates share an LSH band key, the earliest
   ``limit`` of each bucket (index first, then earlier rows of this batch); each pair is
   verified on the exact Jaccard, in order (shared bands desc, id asc), first hit wins.
3. Shortened copies (rows left, ``DedupConfig.containment``): the first candidate, in the
   same order, that holds the row's set as the rule says.

Everything is batch-at-a-time numpy; the per-pair loops (set equality, Jaccard) run in
compiled kernels when numba is there, in Python otherwise, with identical results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Tuple

import numpy as np

from dedup.accel import jit
from dedup.arrays import ragged_take
from dedup.index.base import Index
from dedup.index.sorted_table import stable_argsort
from dedup.fingerprint.shingles import ShingleSets
from dedup.decide.rules import shortened_copy
from dedup.decide.verify import jaccard_sorted, overlap_rows

if TYPE_CHECKING:
    from dedup.config import DedupConfig

_EMPTY = np.zeros(0, dtype=np.int64)


def exact_matches(sets: ShingleSets, set_keys: np.ndarray, new_row: np.ndarray, row_id: np.ndarray,
                  index: Index, use_index: bool, match: np.ndarray, sim: np.ndarray, exact: np.ndarray) -> None:
    """Fill ``match``/``sim``/``exact`` for rows whose shingle set an earlier paragraph has."""
    if use_index and len(index):
        first = index.first_exact(set_keys)
        rows = np.flatnonzero((first >= 0) & (first < row_id))
        if len(rows) and index.stores_shingles:
            pool, starts, lengths = index.shingle_spans(first[rows])
            ok = _equal(sets, rows, np.ones(len(rows), dtype=bool), starts, lengths, pool)
            hit = rows[ok]
            match[hit], sim[hit], exact[hit] = first[hit], 1.0, True
        elif len(rows):  # an index without sets (exact-only): the 64-bit set key decides
            hit = rows
            match[hit], sim[hit], exact[hit] = first[hit], 1.0, True
    new_rows = np.flatnonzero(new_row)
    if len(new_rows) < 2:
        return
    keys = set_keys[new_rows]
    order = stable_argsort(keys)
    sk = keys[order]
    group_start = np.r_[True, sk[1:] != sk[:-1]]
    first_in_group = order[np.flatnonzero(group_start)[np.cumsum(group_start) - 1]]
    first_row = np.empty(len(new_rows), dtype=np.int64)
    first_row[order] = new_rows[first_in_group]
    rows = np.flatnonzero((first_row < new_rows) & (match[new_rows] < 0))
    if len(rows) == 0:
        return
    rows, firsts = new_rows[rows], first_row[rows]
    starts = sets.offsets[firsts]
    ok = _equal(sets, rows, np.zeros(len(rows), dtype=bool), starts, sets.offsets[firsts + 1] - starts, sets.hashes)
    hit = rows[ok]
    match[hit], sim[hit], exact[hit] = row_id[firsts[ok]], 1.0, True


def _equal(sets: ShingleSets, rows: np.ndarray, from_index: np.ndarray, starts: np.ndarray,
           lengths: np.ndarray, pool: np.ndarray) -> np.ndarray:
    kernels = jit.kernels()
    if kernels is not None:
        return kernels.equal_pairs(rows, from_index, starts.astype(np.int64), lengths.astype(np.int64),
                                   sets.hashes, sets.offsets, pool)
    out = np.zeros(len(rows), dtype=bool)
    for k, (r, s, n, fi) in enumerate(zip(rows.tolist(), starts.tolist(), lengths.tolist(), from_index.tolist())):
        other = pool[s:s + n] if fi else sets.hashes[s:s + n]
        out[k] = np.array_equal(sets.get(r), other)
    return out


def candidate_pairs(query: np.ndarray, keys_q: np.ndarray, new_row: np.ndarray, match: np.ndarray,
                    row_id: np.ndarray, index: Index, use_index: bool, limit: int):
    """(query row, candidate id) for every bucket shared with an earlier paragraph, with repeats.

    ``keys_q`` holds the band keys of the ``query`` rows. Per (row, band) at most
    ``limit`` candidates: the earliest of the index's bucket, then of this batch's. Also
    returns the band pairs this batch stores, sorted by (key, id) (for the index), since
    the keys are sorted here once for everything.
    """
    bands = keys_q.shape[1]
    flat = keys_q.ravel()
    order = stable_argsort(flat)
    sorted_keys = flat[order]
    q_parts, c_parts = [], []
    taken = np.zeros(len(flat), dtype=np.int64)
    if use_index and len(index):
        pos, ids, taken = index.band_candidates_sorted(sorted_keys, order, limit)
        q_parts.append(query[pos // bands])
        c_parts.append(np.asarray(ids, dtype=np.int64))
    # Earlier rows of this batch that share a key; only rows that store their set
    # (new, not exact repeats) are in the band table, as in the index.
    stored = new_row[query] & (match[query] < 0)
    kernels = jit.kernels()
    if kernels is not None:
        q_b, c_b = kernels.batch_candidates(sorted_keys, order, query, stored, bands, taken, limit, row_id)
        q_parts.append(q_b)
        c_parts.append(c_b)
    else:
        _batch_candidates_numpy(sorted_keys, order, query, stored, bands, taken, limit, row_id, q_parts, c_parts)
    in_table = stored[order // bands]
    stored_pairs = (sorted_keys[in_table], row_id[query[order[in_table] // bands]])
    if not q_parts:
        return _EMPTY, _EMPTY, stored_pairs
    q_all = np.concatenate(q_parts)
    c_all = np.concatenate(c_parts)
    keep = c_all < row_id[q_all]  # strictly earlier (matters for replayed documents)
    return q_all[keep], c_all[keep], stored_pairs


def _batch_candidates_numpy(sk, order, query, stored, bands, taken, limit, row_id, q_parts, c_parts):
    member = stored[order // bands]
    sk, order = sk[member], order[member]
    if len(sk) == 0:
        return
    sr = query[order // bands]
    group_start = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    group_of = np.repeat(group_start, np.diff(np.r_[group_start, len(sk)]))
    pos_in_group = np.arange(len(sk)) - group_of
    budget = limit - taken[order]
    count = np.clip(np.minimum(pos_in_group, budget), 0, None)
    hits = np.flatnonzero(count > 0)
    if len(hits):
        c = count[hits]
        rel = ragged_take(np.zeros(len(c), dtype=np.int64), c)
        q_parts.append(np.repeat(sr[hits], c))
        c_parts.append(row_id[sr[np.repeat(group_of[hits], c) + rel]])


def ordered_pairs(q_all: np.ndarray, c_all: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Distinct pairs in verification order: by row, shared bands desc, candidate id asc."""
    if len(q_all) == 0:
        return _EMPTY, _EMPTY
    span = int(c_all.max()) + 1
    rows = int(q_all.max()) + 1
    if rows < (1 << 62) // span:
        code, shared = np.unique(q_all * span + c_all, return_counts=True)
        q, c = code // span, code % span
    else:  # ids too large to pack two in an int64
        pairs, shared = np.unique(np.stack((q_all, c_all), axis=1), axis=0, return_counts=True)
        q, c = pairs[:, 0], pairs[:, 1]
    width = int(shared.max()) + 1
    if rows < (1 << 62) // (span * width):  # one distinct int64 per pair: a plain sort will do
        order = np.argsort((q * width + (width - 1 - shared)) * span + c)
    else:
        order = np.lexsort((c, -shared, q))
    return q[order], c[order]


def verify(sets: ShingleSets, q: np.ndarray, c: np.ndarray, base: int, new_rows: np.ndarray, index: Index,
           threshold: float, match: np.ndarray, sim: np.ndarray) -> None:
    """The first pair of each row whose Jaccard reaches ``threshold`` sets its match."""
    if len(q) == 0:
        return
    kernels = jit.kernels()
    if kernels is None:
        get_index = index.shingles
        for qr, cand in zip(q.tolist(), c.tolist()):
            if match[qr] >= 0:
                continue
            other = sets.get(int(new_rows[cand - base])) if cand >= base else get_index(cand)
            s = jaccard_sorted(sets.get(qr), other)
            if s >= threshold:
                match[qr], sim[qr] = cand, s
        return
    from_index = c < base
    starts = np.empty(len(c), dtype=np.int64)
    lengths = np.empty(len(c), dtype=np.int64)
    rows = new_rows[c[~from_index] - base]
    starts[~from_index] = sets.offsets[rows]
    lengths[~from_index] = sets.offsets[rows + 1] - sets.offsets[rows]
    pool = np.zeros(0, dtype=np.uint32)
    if from_index.any():
        pool, s_idx, l_idx = index.shingle_spans(c[from_index])
        starts[from_index] = s_idx
        lengths[from_index] = l_idx
    kernels.verify_pairs(q, c, from_index, starts, lengths, sets.hashes, sets.offsets,
                         np.ascontiguousarray(pool, dtype=np.uint32), float(threshold), match, sim)



def contained_matches(sets: ShingleSets, q: np.ndarray, c: np.ndarray, base: int, new_rows: np.ndarray,
                      index: Index, config: "DedupConfig", match: np.ndarray, sim: np.ndarray,
                      contained: np.ndarray) -> None:
    """Rows :func:`verify` left unmatched take the first pair (same order) whose earlier unit
    holds their set as the shortened-copy rule says; ``sim`` is then the containment."""
    if not config.shortened_rule or len(q) == 0:
        return
    keep = (match[q] < 0) & (sets.n_tokens[q] >= config.containment_min_tokens)
    q, c = q[keep], c[keep]
    if len(q) == 0:
        return
    size_q = sets.offsets[q + 1] - sets.offsets[q]
    from_index = c < base
    starts = np.empty(len(c), dtype=np.int64)
    lengths = np.empty(len(c), dtype=np.int64)
    rows = new_rows[c[~from_index] - base]
    pool = sets.hashes
    if from_index.any():
        index_pool, s_idx, l_idx = index.shingle_spans(c[from_index])
        pool = np.concatenate([np.asarray(sets.hashes, dtype=np.uint32), np.asarray(index_pool, dtype=np.uint32)])
        starts[from_index] = np.asarray(s_idx, dtype=np.int64) + len(sets.hashes)
        lengths[from_index] = l_idx
    starts[~from_index] = sets.offsets[rows]
    lengths[~from_index] = sets.offsets[rows + 1] - sets.offsets[rows]
    inter = overlap_rows(sets.hashes, sets.offsets[q], size_q, pool, starts, lengths)
    ok = np.flatnonzero(shortened_copy(inter, size_q, lengths, sets.n_tokens[q], config))
    if len(ok) == 0:
        return
    _, first = np.unique(q[ok], return_index=True)  # pairs come by row, in verification order
    take = ok[first]
    match[q[take]] = c[take]
    sim[q[take]] = inter[take] / size_q[take]
    contained[q[take]] = True
