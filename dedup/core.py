"""Deduplicator: the batch pipeline from documents to canonical text.

One batch of documents at a time: split -> shingle sets -> signatures -> band keys ->
candidates (earlier paragraphs of this batch and of the index) -> exact similarity ->
decisions -> canonical text. A paragraph's fate depends only on which earlier
paragraphs exist (removed ones count too), never on how input was cut into batches.
"""

from __future__ import annotations

import gc
import itertools
import os
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Hashable, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from dedup.config import DedupConfig, make_config
from dedup.index.base import Index, IndexBatch, Location
from dedup.index.memory import MemoryIndex
from dedup.lsh import band_keys
from dedup.minhash import signatures
from dedup.results import DedupResult, Removal, Stats, assemble, utf8_len
from dedup.shingles import ShingleSets, shingle_sets
from dedup.inner import find_inner_repeats
from dedup.text import check_text, split_units
from dedup.verify import jaccard_sorted

_U64 = np.uint64


@dataclass
class _Doc:
    text: str
    doc_id: Hashable
    starts: np.ndarray
    ends: np.ndarray
    replay_first: int = -1  # first entry id when this document is already indexed
    auto_id: bool = False  # numbered by this Deduplicator: never a replay of an earlier run


class Deduplicator:
    """Removes paragraphs that repeat an earlier paragraph; stateful in corpus scope.

    ``Deduplicator(config=None, *, index=None, **overrides)``: settings come from
    ``config`` (a :class:`DedupConfig`) with keyword ``overrides``; scope defaults to
    ``"corpus"`` here. ``index`` is where corpus scope remembers what it has seen (a
    :class:`MemoryIndex` by default; a path or ``redis://`` URL opens a persistent one).
    """

    def __init__(self, config: Optional[DedupConfig] = None, *,
                 index: Optional[Index | str | os.PathLike] = None, **overrides: Any) -> None:
        if config is None and "scope" not in overrides:
            overrides["scope"] = "corpus"
        self.config = make_config(config, **overrides)
        if isinstance(index, (str, os.PathLike)):  # "corpus.dedup", "redis://host:6379/0"
            from dedup.index.open import open_index
            index = open_index(index)
        self.index: Index = index if index is not None else MemoryIndex()
        if self.config.scope == "corpus":
            self.index.bind(self.config.fingerprint(), self.config.fingerprint_settings())
        self.stats = Stats()
        self._auto_ids = itertools.count()

    def dedupe(self, text: str, doc_id: Optional[Hashable] = None) -> DedupResult:
        """Deduplicate one document (against earlier ones in corpus scope)."""
        return self.dedupe_many([text], [doc_id])[0]

    def dedupe_many(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]] = None
                    ) -> List[DedupResult]:
        """Deduplicate documents in order; the same results as calling :meth:`dedupe` on each."""
        return list(self.iter_dedupe(texts, doc_ids))

    def iter_dedupe(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]] = None
                    ) -> Iterator[DedupResult]:
        """Stream results, one per input document in order, working in bounded batches."""
        ids = iter(doc_ids) if doc_ids is not None else itertools.repeat(None)
        batch: List[_Doc] = []
        batch_ids: set = set()
        size = 0
        corpus = self.config.scope == "corpus"
        for position, text in enumerate(texts):
            check_text(text, f"document {position}")
            doc_id = next(ids, None)
            auto = doc_id is None and corpus
            if auto:
                doc_id = next(self._auto_ids)
            elif corpus and doc_id in batch_ids:
                # The same id again: index the batch first, so the second copy is a replay
                # of the first whatever the batch size.
                yield from self._run_batch(batch)
                batch, batch_ids, size = [], set(), 0
            starts, ends = split_units(text, self.config.granularity)
            batch.append(_Doc(text, doc_id, starts, ends, auto_id=auto))
            if not auto:
                batch_ids.add(doc_id)
            size += len(starts)
            if size >= self.config.batch_paragraphs:
                yield from self._run_batch(batch)
                batch, batch_ids, size = [], set(), 0
        if batch:
            yield from self._run_batch(batch)

    # -- the batch pipeline ------------------------------------------------------------

    def _run_batch(self, docs: List[_Doc]) -> List[DedupResult]:
        cfg = self.config
        corpus = cfg.scope == "corpus"
        sizes = np.array([len(d.starts) for d in docs], dtype=np.int64)
        n = int(sizes.sum())
        with _gc_paused():
            paragraphs = [d.text[s:e] for d in docs for s, e in zip(d.starts.tolist(), d.ends.tolist())]
            sets = shingle_sets(paragraphs, cfg.ngram, cfg.normalization, cfg.unspaced_scripts)
            del paragraphs
            sigs = signatures(sets.hashes, sets.offsets, cfg.num_perm, cfg.seed)
            keys = band_keys(sigs, cfg.layout)
            del sigs
            doc_of_row = np.repeat(np.arange(len(docs), dtype=np.int64), sizes)
            row_first = np.cumsum(sizes) - sizes
            set_keys = sets.set_keys
            if not corpus:  # repeats only inside a document: keys never meet across documents
                salt = (doc_of_row.astype(_U64) + _U64(1)) * _U64(0x9E3779B97F4A7C15)
                set_keys = set_keys ^ salt
                keys = keys ^ salt[:, None]
            new_row = np.ones(n, dtype=bool)
            row_id = np.empty(n, dtype=np.int64)
            # A persistent index holds its write lock from the first lookup to the add.
            with self.index.batch() if corpus and hasattr(self.index, "batch") else nullcontext():
                if corpus:
                    self._mark_replays(docs, row_first, set_keys, new_row, row_id)
                base = len(self.index) if corpus else 0
                row_id[new_row] = base + np.arange(int(new_row.sum()), dtype=np.int64)
                match, sim, exact = self._find_matches(sets, set_keys, keys, new_row, row_id, base)
                results = self._decide(docs, sets, row_first, match, sim, exact, new_row, base)
                if corpus:
                    self._index_batch(docs, sets, set_keys, keys, new_row, match, exact, row_id)
        return results

    def _mark_replays(self, docs: List[_Doc], row_first: np.ndarray, set_keys: np.ndarray,
                      new_row: np.ndarray, row_id: np.ndarray) -> None:
        """Documents fed again under the same id get the decisions of their first run."""
        for doc, first in zip(docs, row_first.tolist()):
            if doc.auto_id:
                continue
            known = self.index.document(doc.doc_id)
            if known is None or known[1] != len(doc.starts) or known[1] == 0:
                continue
            ids = np.arange(known[0], known[0] + known[1], dtype=np.int64)
            if np.array_equal(self.index.entry_set_keys(ids), set_keys[first:first + known[1]]):
                doc.replay_first = known[0]
                new_row[first:first + known[1]] = False
                row_id[first:first + known[1]] = ids

    def _find_matches(self, sets: ShingleSets, set_keys: np.ndarray, keys: np.ndarray,
                      new_row: np.ndarray, row_id: np.ndarray, base: int):
        """Per row: id of the earlier paragraph it repeats (-1: none), similarity, exact?"""
        cfg = self.config
        corpus = cfg.scope == "corpus"
        n = len(set_keys)
        match = np.full(n, -1, dtype=np.int64)
        sim = np.zeros(n, dtype=np.float64)
        exact = np.zeros(n, dtype=bool)
        new_rows = np.flatnonzero(new_row)  # ids base, base + 1, ...; replayed rows live in the index

        # 1. Exact repeats: the earliest paragraph with the same shingle set.
        if corpus and len(self.index):
            first = self.index.first_exact(set_keys)
            ok = (first >= 0) & (first < row_id)
            for r in np.flatnonzero(ok).tolist():
                if np.array_equal(self.index.shingles(int(first[r])), sets.get(r)):
                    match[r], sim[r], exact[r] = first[r], 1.0, True
        if len(new_rows):
            _, first_pos, inverse = np.unique(set_keys[new_rows], return_index=True, return_inverse=True)
            first_row = new_rows[first_pos[inverse.ravel()]]
            for r, f in zip(new_rows.tolist(), first_row.tolist()):
                if f < r and match[r] < 0 and np.array_equal(sets.get(f), sets.get(r)):
                    match[r], sim[r], exact[r] = row_id[f], 1.0, True

        # 2. Near repeats: LSH candidates, verified on the exact Jaccard similarity.
        query = np.flatnonzero(match < 0)
        if len(query) == 0:
            return match, sim, exact
        bands = keys.shape[1]
        limit = cfg.max_bucket_candidates
        q_parts, c_parts = [], []
        taken = np.zeros(len(query) * bands, dtype=np.int64)
        if corpus and len(self.index):
            pos, ids = self.index.band_candidates(keys[query], limit)
            taken = np.bincount(pos, minlength=len(query) * bands)
            q_parts.append(query[pos // bands])
            c_parts.append(ids)
        # Earlier rows of this batch that share a key; only rows that store their set
        # (new, not exact repeats) are in the band table, as in the index.
        stored = new_row & (match < 0)
        stored_rows = np.flatnonzero(stored)
        if len(stored_rows):
            flat_keys = keys[stored_rows].ravel()
            flat_rows = np.repeat(stored_rows, bands)
            order = np.lexsort((flat_rows, flat_keys))
            sk, sr = flat_keys[order], flat_rows[order]
            group_start = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
            group_of = np.repeat(group_start, np.diff(np.r_[group_start, len(sk)]))
            pos_in_group = np.arange(len(sk)) - group_of
            # remaining budget per (query row, band) after the index took its share
            qpos_of_row = np.full(n, -1, dtype=np.int64)
            qpos_of_row[query] = np.arange(len(query))
            band_of = np.tile(np.arange(bands), len(stored_rows))[order]
            budget = limit - taken[qpos_of_row[sr] * bands + band_of]
            count = np.clip(np.minimum(pos_in_group, budget), 0, None)
            hits = np.flatnonzero(count > 0)
            if len(hits):
                c = count[hits]
                rel = np.arange(c.sum(), dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
                q_parts.append(np.repeat(sr[hits], c))
                c_parts.append(row_id[sr[np.repeat(group_of[hits], c) + rel]])
        if not q_parts:
            return match, sim, exact
        q_all = np.concatenate(q_parts)
        c_all = np.concatenate(c_parts)
        keep = c_all < row_id[q_all]  # strictly earlier (matters for replayed documents)
        q_all, c_all = q_all[keep], c_all[keep]
        if len(q_all) == 0:
            return match, sim, exact
        # One row per (query, candidate) with the number of shared bands; verify the most
        # similar-looking first, earliest first among equals, and stop at the first hit.
        pair = np.unique(np.stack((q_all, c_all), axis=1), axis=0, return_counts=True)
        pairs, shared = pair
        order = np.lexsort((pairs[:, 1], -shared, pairs[:, 0]))
        pairs = pairs[order]
        threshold = cfg.threshold
        for q, cand in pairs.tolist():
            if match[q] >= 0:
                continue
            other = sets.get(int(new_rows[cand - base])) if cand >= base else self.index.shingles(cand)
            s = jaccard_sorted(sets.get(q), other)
            if s >= threshold:
                match[q], sim[q] = cand, s
        return match, sim, exact

    def _decide(self, docs: List[_Doc], sets: ShingleSets, row_first: np.ndarray, match: np.ndarray,
                sim: np.ndarray, exact: np.ndarray, new_row: np.ndarray, base: int) -> List[DedupResult]:
        cfg = self.config
        is_repeat = match >= 0
        long_enough = sets.n_tokens >= cfg.min_tokens
        new_rows = np.flatnonzero(new_row)
        set_sizes = np.diff(sets.offsets)
        results = []
        for d, doc in enumerate(docs):
            lo, hi = int(row_first[d]), int(row_first[d]) + len(doc.starts)
            removed = _apply_run_rule(is_repeat[lo:hi], long_enough[lo:hi])
            removals = []
            for i in np.flatnonzero(removed).tolist():
                r = lo + i
                entry = int(match[r])
                loc = (self.index.location(entry) if entry < base
                       else _row_location(int(new_rows[entry - base]), docs, row_first))
                reason = "run" if not long_enough[r] else ("exact" if exact[r] else "near")
                removals.append(Removal(i, int(doc.starts[i]), int(doc.ends[i]), loc.doc_id, loc.index,
                                        loc.start, loc.end, round(float(sim[r]), 6), reason))
            cuts = self._inner_removals(doc, removed, sets.n_tokens[lo:hi], set_sizes[lo:hi], removals)
            out = assemble(doc.text, doc.starts, doc.ends, removed, cuts)
            results.append(DedupResult(out, doc.doc_id, list(zip(doc.starts.tolist(), doc.ends.tolist())),
                                       removals, len(doc.text)))
            self._count(doc, out, len(removals))
        return results

    def _inner_removals(self, doc: _Doc, removed: np.ndarray, n_tokens: np.ndarray, set_sizes: np.ndarray,
                        removals: List[Removal]) -> List[Tuple[int, int]]:
        """Spans of kept paragraphs that repeat an earlier span of the same paragraph."""
        cfg = self.config
        if not cfg.inner_repeats or cfg.granularity != "paragraph":
            return []
        # A copied span of m tokens repeats about m - ngram + 1 shingles, so the set is that
        # much smaller than the shingle count: only such paragraphs are worth a look.
        repeated_shingles = (n_tokens - cfg.ngram + 1) - set_sizes
        worth = (n_tokens >= 2 * cfg.inner_min_tokens) & (
            repeated_shingles >= cfg.threshold * (cfg.inner_min_tokens - cfg.ngram + 1) / 2)
        cuts = []
        for i in np.flatnonzero(~removed & worth).tolist():
            start, end = int(doc.starts[i]), int(doc.ends[i])
            for rep in find_inner_repeats(doc.text[start:end], ngram=cfg.ngram, threshold=cfg.threshold,
                                          min_tokens=cfg.inner_min_tokens, normalization=cfg.normalization,
                                          unspaced=cfg.unspaced_scripts):
                removals.append(Removal(i, start + rep.start, start + rep.end, doc.doc_id, i,
                                        start + rep.source_start, start + rep.source_end, rep.similarity,
                                        "inner"))
                cuts.append((start + rep.start, start + rep.end))
        removals.sort(key=lambda r: (r.index, r.start))
        return cuts

    def _index_batch(self, docs: List[_Doc], sets: ShingleSets, set_keys: np.ndarray, keys: np.ndarray,
                     new_row: np.ndarray, match: np.ndarray, exact: np.ndarray, row_id: np.ndarray) -> None:
        rows = np.flatnonzero(new_row)
        if len(rows) == 0:
            return
        new_docs = [d for d in docs if d.replay_first < 0]
        lengths = np.diff(sets.offsets)[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        take = np.concatenate([np.arange(sets.offsets[r], sets.offsets[r + 1]) for r in rows.tolist()]) \
            if len(rows) < len(set_keys) else np.arange(len(sets.hashes))
        para_index = np.concatenate([np.arange(len(d.starts), dtype=np.int64) for d in new_docs]) \
            if new_docs else np.zeros(0, dtype=np.int64)
        self.index.add(IndexBatch(
            set_keys=set_keys[rows],
            band_keys=keys[rows],
            hashes=sets.hashes[take],
            offsets=offsets,
            shingle_ref=np.where(exact[rows], match[rows], -1),
            doc_ids=[d.doc_id for d in new_docs],
            doc_sizes=np.array([len(d.starts) for d in new_docs], dtype=np.int64),
            para_index=para_index,
            starts=np.concatenate([d.starts for d in new_docs]) if new_docs else np.zeros(0, np.int64),
            ends=np.concatenate([d.ends for d in new_docs]) if new_docs else np.zeros(0, np.int64),
        ))

    def _count(self, doc: _Doc, out: str, removed: int) -> None:
        st = self.stats
        st.documents += 1
        st.paragraphs += len(doc.starts)
        st.removed += removed
        st.documents_changed += removed > 0
        st.documents_emptied += bool(removed) and not out.strip()
        st.chars_in += len(doc.text)
        st.chars_out += len(out)
        st.bytes_in += utf8_len(doc.text)
        st.bytes_out += utf8_len(out)


def _row_location(row: int, docs: List[_Doc], row_first: np.ndarray) -> Location:
    d = int(np.searchsorted(row_first, row, side="right") - 1)
    i = row - int(row_first[d])
    doc = docs[d]
    return Location(doc.doc_id, i, int(doc.starts[i]), int(doc.ends[i]))


def _apply_run_rule(is_repeat: np.ndarray, long_enough: np.ndarray) -> np.ndarray:
    """Removed paragraphs of one document.

    A repeat with enough tokens is removed. A short repeat (a heading, a byline) is
    removed only inside a run of consecutive repeats that holds a removed long one:
    the second copy of an article loses its title too, a lone recurring "Features:" stays.
    """
    removed = is_repeat & long_enough
    short = is_repeat & ~long_enough
    if not short.any() or not removed.any():
        return removed
    n = len(is_repeat)
    run_id = np.cumsum(np.r_[True, is_repeat[1:] != is_repeat[:-1]])
    has_long = np.zeros(run_id[-1] + 1, dtype=bool)
    has_long[run_id[removed]] = True
    return removed | (short & has_long[run_id[:n]])


@contextmanager
def _gc_paused():
    """Bulk array work allocates no cycles; the collector would only cost time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def dedupe_text(text: str, config: Optional[DedupConfig] = None, **overrides: Any) -> str:
    """``text`` with repeated paragraphs removed (document scope); first occurrences kept."""
    return explain(text, config, **overrides).text


def explain(text: str, config: Optional[DedupConfig] = None, **overrides: Any) -> DedupResult:
    """Like :func:`dedupe_text`, with the paragraphs and an account of every removal."""
    check_text(text)
    overrides.setdefault("scope", "document")
    return Deduplicator(config, **overrides).dedupe(text, doc_id=None)
