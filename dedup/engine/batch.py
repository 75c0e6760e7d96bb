"""The batch path: a batch of records at a time through numpy arrays and numba kernels.

What :class:`dedup.Deduplicator` runs where the compiled engine (:mod:`dedup.engine.compiled`) does
not serve: no C compiler at install, an index that is not the engine's store (SQLite, Redis,
compact, a user's), or ``DEDUP_NATIVE=0``. The same decisions as the engine, batch after batch:
split -> shingle sets -> signatures -> band keys -> candidates (earlier paragraphs of this batch
and of the index) -> exact similarity -> decisions -> canonical text. A paragraph's fate depends
only on which earlier paragraphs exist (removed ones count too), never on how input was cut into
batches.
"""

from __future__ import annotations

import itertools
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from typing import Deque, Dict, Hashable, Iterable, Iterator, List, Optional, Sequence, Tuple, cast

import numpy as np

from dedup.accel import jit
from dedup.arrays import exclusive_cumsum, offsets_of, ragged_take, row_of
from dedup.config import DedupConfig
from dedup.decide.inner import InnerRepeat, find_inner_repeats_many
from dedup.decide.matching import candidate_pairs, contained_matches, exact_matches, ordered_pairs, verify
from dedup.decide.rules import apply_run_rule, inner_removals, inner_search_mask, removal_reasons, scope_salt
from dedup.engine.compiled import CompiledPrints
from dedup.engine.gcpause import gc_paused as _gc_paused
from dedup.fingerprint.lsh import band_keys
from dedup.fingerprint.minhash import minhash_rows
from dedup.fingerprint.shingles import ShingleSets, shingle_sets, shingle_sets_of_spans
from dedup.index.base import Index, IndexBatch
from dedup.results import DedupResult, Removal, Spans, Stats, make_result, removals_from, utf8_len
from dedup.text.assemble import assemble
from dedup.text.fastsplit import spans_sizes_points
from dedup.text.split import check_text, split_units

_READ_AHEAD = 64  # documents split per call


@dataclass(slots=True)
class _Doc:
    text: str
    doc_id: Hashable
    starts: np.ndarray
    ends: np.ndarray
    replay_first: int = -1  # first entry id when this document is already indexed
    utf8_size: int = -1
    auto_id: bool = False  # numbered by the deduplicator: never a replay of an earlier run
    points: Optional[np.ndarray] = None  # code points holding the text (shared with other documents)
    points_at: int = 0  # where the text starts in them


class BatchEngine:
    """Decides records a batch at a time against ``index`` (corpus scope) or within each record."""

    def __init__(self, config: DedupConfig, index: Index, read_only: bool, stats: Stats,
                 auto_ids: "itertools.count[int]", workers: int) -> None:
        self.config = config
        self.index = index
        self.read_only = read_only
        self.stats = stats
        self._auto_ids = auto_ids
        self.workers = workers
        self._stored_pairs: Optional[Tuple[np.ndarray, np.ndarray]] = None
        self._compiled = CompiledPrints.of(config)
        self._ready_keys: Optional[np.ndarray] = None

    def one(self, text: str, doc_id: Optional[Hashable]) -> DedupResult:
        """One record, without the streaming machinery (a loop of calls pays only the batch)."""
        pending: Deque[_Doc] = deque()
        error: List[BaseException] = []
        self._read_ahead(iter((text,)), iter((doc_id,)), pending, error, 0, 1)
        if error:
            raise error[0]
        with _gc_paused():
            return self._run_batch([pending[0]])[0]

    def stream(self, texts: Iterable[str], doc_ids: Optional[Iterable[Optional[Hashable]]]) -> Iterator[DedupResult]:
        """Results in input order, in bounded batches (with ``workers`` > 1 the next batch is
        fingerprinted on worker threads while this one is decided)."""
        collect = _Collector(self, texts, doc_ids)
        if self.workers <= 1:
            while True:
                # Collect and run a batch with the garbage collector paused (our work creates no
                # cycles, and a full collection walks every object the caller keeps); resume it
                # before handing results back.
                with _gc_paused():
                    batch = collect.next_batch()
                    results = self._run_batch(batch) if batch else []
                if not results:
                    return
                yield from results
        else:
            yield from self._pipelined(collect)

    def _pipelined(self, collect: "_Collector") -> Iterator[DedupResult]:
        """Batch k+1 fingerprinted on worker threads while batch k is decided here."""
        jit.kernels()  # load (or start building) the kernels here, not on a worker thread
        parts = self.workers - 1  # threads fingerprinting the next batch, a part each
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup-ahead") as ahead_pool, \
                ThreadPoolExecutor(max_workers=parts, thread_name_prefix="dedup-fingerprint") as pool:
            def prepare(docs: List[_Doc]) -> "_Prepared":
                if parts == 1 or len(docs) < 2 * parts:
                    return self._prepare(docs)
                cut = [round(k * len(docs) / parts) for k in range(parts + 1)]
                pieces = [pool.submit(self._prepare, docs[a:b]) for a, b in zip(cut, cut[1:])]
                return _Prepared.concat([piece.result() for piece in pieces])

            batch, failed = collect.next_batch_or_error()
            ahead = ahead_pool.submit(prepare, batch) if batch else None
            while ahead is not None:
                nxt, nxt_failed = collect.next_batch_or_error() if failed is None else ([], failed)
                nxt_ahead = ahead_pool.submit(prepare, nxt) if nxt else None
                with _gc_paused():
                    results = self._run_batch(batch, ahead.result())
                yield from results
                batch, ahead, failed = nxt, nxt_ahead, nxt_failed
            if failed is not None:
                raise failed

    def _prepare(self, docs: List[_Doc]) -> "_Prepared":
        """What a batch needs before any decision: its shingle sets and every row's band keys."""
        sizes = np.array([len(d.starts) for d in docs], dtype=np.int64)
        row_first = exclusive_cumsum(sizes)
        sets = self._shingle_sets(docs, row_first, int(sizes.sum()))
        keys = None
        if not self.config.exact_only and len(sets.set_keys):
            keys = self._band_keys(sets, np.arange(len(sets.set_keys), dtype=np.int64))
        return _Prepared(sizes, row_first, sets, keys)

    def _band_keys(self, sets: ShingleSets, rows: np.ndarray) -> np.ndarray:
        """The band keys of these rows' sets: by the compiled engine when built, else signatures first."""
        if self._compiled is not None:
            return self._compiled.band_keys(sets, rows)
        cfg = self.config
        return band_keys(minhash_rows(sets, rows, cfg.num_perm, cfg.seed), cfg.layout)

    def _read_ahead(self, source: Iterator[str], ids: Iterator, pending: "Deque[_Doc]",
                    error: List[BaseException], position: int, count: int) -> int:
        """Split the next ``count`` documents in one call (the splitter's cost is per call)."""
        corpus = self.config.scope == "corpus"
        chunk: List[str] = []
        chunk_ids: list = []
        chunk_auto: List[bool] = []
        for _ in range(count):
            try:  # a bad document, or a source that raises on one: raised in order, after those before it
                text = next(source)
                check_text(text, f"document {position + len(chunk)}")
            except StopIteration:
                break
            except Exception as exc:
                error.append(exc)
                break
            doc_id = next(ids, None)
            auto = doc_id is None and corpus
            if auto:
                doc_id = next(self._auto_ids)
            chunk.append(text)
            chunk_ids.append(doc_id)
            chunk_auto.append(auto)
        if self.config.granularity == "paragraph":
            spans = spans_sizes_points(chunk)
        else:
            spans = [split_units(text, self.config.granularity) + (-1, None, 0) for text in chunk]
        for text, doc_id, auto, (starts, ends, utf8_size, points, at) in zip(chunk, chunk_ids, chunk_auto, spans):
            pending.append(_Doc(text, doc_id, starts, ends, utf8_size=utf8_size, auto_id=auto, points=points,
                                points_at=at))
        return position + len(chunk)

    # -- the batch pipeline ------------------------------------------------------------

    def _run_batch(self, docs: List[_Doc], prepared: Optional["_Prepared"] = None) -> List[DedupResult]:
        """One batch through the stages: shingle sets, replays, matches, decisions, index update."""
        corpus = self.config.scope == "corpus"
        with _gc_paused():
            if prepared is None:
                sizes = np.array([len(d.starts) for d in docs], dtype=np.int64)
                row_first = exclusive_cumsum(sizes)
                sets = self._shingle_sets(docs, row_first, int(sizes.sum()))
            else:
                sizes, row_first, sets = prepared.sizes, prepared.row_first, prepared.sets
            self._ready_keys = prepared.keys if prepared is not None else None
            salt = None if corpus else scope_salt(sizes)  # document scope: keys never meet across documents
            set_keys = sets.set_keys if salt is None else sets.set_keys ^ salt
            new_row = np.ones(len(set_keys), dtype=bool)
            row_id = np.empty(len(set_keys), dtype=np.int64)
            # A persistent index holds its write lock from the first lookup to the add.
            with self.index.batch() if corpus else nullcontext():
                if corpus and not self.read_only:
                    self._mark_replays(docs, row_first, set_keys, new_row, row_id)
                base = len(self.index) if corpus else 0
                if self.read_only:  # matched against the index only: no row is a candidate for another
                    new_row[:] = False
                    row_id[:] = base
                row_id[new_row] = base + np.arange(int(new_row.sum()), dtype=np.int64)
                match, sim, exact, contained, keys = self._find_matches(sets, set_keys, salt, new_row, row_id, base)
                results = self._decide(docs, sets, row_first, match, sim, exact, contained, new_row, base)
                if corpus and not self.read_only:
                    self._index_batch(docs, sets, set_keys, keys, new_row, match, exact, row_id)
        return results

    def _shingle_sets(self, docs: List[_Doc], row_first: np.ndarray, n: int) -> ShingleSets:
        """The batch's shingle sets: by the compiled engine when built, else from the documents' code
        points when split so (numba), else from strings (numpy)."""
        if self._compiled is None:
            sets = self._shingle_sets_of_points(docs, row_first, n)
            if sets is not None:
                return sets
        cfg = self.config
        paragraphs = [d.text[s:e] for d in docs for s, e in zip(d.starts.tolist(), d.ends.tolist())]
        if self._compiled is not None:
            return self._compiled.sets(paragraphs)
        return _shingle_sets_once(paragraphs, cfg.ngram, cfg.normalization, cfg.unspaced_scripts)

    def _shingle_sets_of_points(self, docs: List[_Doc], row_first: np.ndarray, n: int) -> Optional[ShingleSets]:
        """The batch's shingle sets read from the documents' code points (compiled path), or None."""
        if not docs or any(d.points is None for d in docs):
            return None
        pieces: List[Tuple[np.ndarray, List[_Doc]]] = []
        for d in docs:  # consecutive documents read together share their code points: one piece
            if pieces and pieces[-1][0] is d.points:
                pieces[-1][1].append(d)
            else:
                pieces.append((cast(np.ndarray, d.points), [d]))
        spans = [(points, np.concatenate([d.starts + d.points_at for d in group]),
                  np.concatenate([d.ends + d.points_at for d in group])) for points, group in pieces]

        def paragraph_texts(rows: np.ndarray) -> List[str]:
            out = []
            for r, d in zip(rows.tolist(), (np.searchsorted(row_first, rows, side="right") - 1).tolist()):
                doc = docs[d]
                i = r - int(row_first[d])
                out.append(doc.text[int(doc.starts[i]):int(doc.ends[i])])
            return out

        cfg = self.config
        return shingle_sets_of_spans(spans, paragraph_texts, n, cfg.ngram, cfg.normalization, cfg.unspaced_scripts)

    def _mark_replays(self, docs: List[_Doc], row_first: np.ndarray, set_keys: np.ndarray,
                      new_row: np.ndarray, row_id: np.ndarray) -> None:
        """Documents fed again under the same id get the decisions of their first run."""
        for doc, first in zip(docs, row_first.tolist()):
            if doc.auto_id:
                continue
            n = len(doc.starts)
            start = self.index.replay_of(doc.doc_id, set_keys[first:first + n]) if n else None
            if start is not None:
                doc.replay_first = start
                self.stats.documents_replayed += 1
                new_row[first:first + n] = False
                row_id[first:first + n] = np.arange(start, start + n, dtype=np.int64)

    def _find_matches(self, sets: ShingleSets, set_keys: np.ndarray, salt: Optional[np.ndarray],
                      new_row: np.ndarray, row_id: np.ndarray, base: int):
        """Per row: id of the earlier paragraph it repeats (-1: none), similarity, exact?, contained?
        (the shortened-copy rule), band keys.

        Band keys (hence signatures) are computed only for rows that are not exact repeats:
        an exact repeat never enters a bucket; its row of ``keys`` is left 0.
        """
        cfg = self.config
        corpus = cfg.scope == "corpus"
        n = len(set_keys)
        match = np.full(n, -1, dtype=np.int64)
        sim = np.zeros(n, dtype=np.float64)
        exact = np.zeros(n, dtype=bool)
        contained = np.zeros(n, dtype=bool)
        keys = np.zeros((n, cfg.layout.bands), dtype=np.uint64)
        exact_matches(sets, set_keys, new_row, row_id, self.index, corpus, match, sim, exact)
        query = np.flatnonzero(match < 0)
        if len(query) == 0 or cfg.exact_only:  # exact-only: no signatures, no LSH
            return match, sim, exact, contained, keys
        if self._ready_keys is not None:  # computed ahead on a worker thread
            keys_q = self._ready_keys[query]
        else:
            keys_q = self._band_keys(sets, query)
        if salt is not None:
            keys_q ^= salt[query][:, None]
        keys[query] = keys_q
        q_all, c_all, self._stored_pairs = candidate_pairs(query, keys_q, new_row, match, row_id, self.index,
                                                           corpus, cfg.max_bucket_candidates)
        q, c = ordered_pairs(q_all, c_all)
        new_rows = np.flatnonzero(new_row)
        verify(sets, q, c, base, new_rows, self.index, cfg.threshold, match, sim)
        contained_matches(sets, q, c, base, new_rows, self.index, cfg, match, sim, contained)
        return match, sim, exact, contained, keys

    def _decide(self, docs: List[_Doc], sets: ShingleSets, row_first: np.ndarray, match: np.ndarray,
                sim: np.ndarray, exact: np.ndarray, contained: np.ndarray, new_row: np.ndarray,
                base: int) -> List[DedupResult]:
        """The last stages: the run rule, removal records, inner repeats, each document's result."""
        long_enough = sets.n_tokens >= self.config.min_tokens
        removed = apply_run_rule(match >= 0, long_enough, row_first)
        rows = np.flatnonzero(removed)
        if len(rows):
            removals = self._removal_records(docs, row_first, rows, match, sim,
                                             removal_reasons(long_enough[rows], exact[rows], contained[rows]),
                                             new_row, base)
            # Rows ascend and each document's rows are contiguous: its removals are one slice.
            cut = np.searchsorted(rows, row_first).tolist() + [len(rows)]
        else:  # nothing removed (most batches of one short document): no records to build
            removals, cut = [], [0] * (len(docs) + 1)
        found = self._inner_repeats(docs, sets, removed, row_first)
        if not removals and not found:  # nothing removed anywhere in the batch (short documents, often)
            self._count_unchanged(docs)
            return [make_result(doc.text, doc.doc_id, Spans(doc.starts, doc.ends), [], len(doc.text)) for doc in docs]
        results = []
        unchanged = []
        for d, doc in enumerate(docs):
            if cut[d] == cut[d + 1] and d not in found:
                unchanged.append(doc)
                results.append(make_result(doc.text, doc.doc_id, Spans(doc.starts, doc.ends), [], len(doc.text)))
            else:
                results.append(self._result(doc, removals[cut[d]:cut[d + 1]], found.get(d, []), removed,
                                            int(row_first[d])))
        self._count_unchanged(unchanged)
        return results

    def _removal_records(self, docs: List[_Doc], row_first: np.ndarray, rows: np.ndarray, match: np.ndarray,
                         sim: np.ndarray, reasons: List[str], new_row: np.ndarray, base: int) -> List[Removal]:
        """Everything a Removal holds, for every removed row of the batch at once."""
        starts = np.concatenate([d.starts for d in docs]) if docs else np.zeros(0, np.int64)
        ends = np.concatenate([d.ends for d in docs]) if docs else np.zeros(0, np.int64)
        doc_of_row = row_of(np.array([len(d.starts) for d in docs], dtype=np.int64))
        located = self._matched_locations(docs, row_first, doc_of_row, match[rows], new_row, base, starts, ends)
        own = (rows - row_first[doc_of_row[rows]]).tolist()
        similarity = list(map(round, sim[rows].tolist(), itertools.repeat(6)))
        return list(removals_from(zip(own, starts[rows].tolist(), ends[rows].tolist(), *located, similarity,
                                      reasons)))

    def _matched_locations(self, docs: List[_Doc], row_first: np.ndarray, doc_of_row: np.ndarray,
                           entries: np.ndarray, new_row: np.ndarray, base: int, starts: np.ndarray,
                           ends: np.ndarray) -> List[list]:
        """(doc ids, paragraph indexes, starts, ends) of the matched paragraphs ``entries``:
        from the index for earlier batches, from this batch's documents for the rest."""
        m = len(entries)
        located: List[list] = [[None] * m, [0] * m, [0] * m, [0] * m]
        earlier = np.flatnonzero(entries < base)
        if len(earlier):
            _place(located, earlier.tolist(), self.index.location_columns(entries[earlier]))
        here = np.flatnonzero(entries >= base)
        if len(here):
            src = np.flatnonzero(new_row)[entries[here] - base]
            src_doc = doc_of_row[src]
            # an index without spans (exact-only) reports 0, 0 whether the match is in this batch or not
            lean = self.config.scope == "corpus" and not self.index.stores_shingles
            spans = ([0] * len(src),) * 2 if lean else (starts[src].tolist(), ends[src].tolist())
            _place(located, here.tolist(), ([docs[d].doc_id for d in src_doc.tolist()],
                                            (src - row_first[src_doc]).tolist(), *spans))
        return located

    def _inner_repeats(self, docs: List[_Doc], sets: ShingleSets, removed: np.ndarray,
                       row_first: np.ndarray) -> Dict[int, List[Tuple[int, List[InnerRepeat]]]]:
        """Per document: (paragraph, repeats inside it) for its kept paragraphs worth a search, in one pass."""
        rows = np.flatnonzero(~removed & inner_search_mask(self.config, sets.n_tokens, np.diff(sets.offsets)))
        if len(rows) == 0:
            return {}
        cfg = self.config
        doc_of = np.searchsorted(row_first, rows, side="right") - 1
        where = [(d, r - int(row_first[d])) for r, d in zip(rows.tolist(), doc_of.tolist())]
        texts = [docs[d].text[int(docs[d].starts[i]):int(docs[d].ends[i])] for d, i in where]
        repeats = find_inner_repeats_many(texts, ngram=cfg.ngram, threshold=cfg.threshold,
                                          min_tokens=cfg.inner_min_tokens, normalization=cfg.normalization,
                                          unspaced=cfg.unspaced_scripts,
                                          words=sets.words_of(rows) if sets.words is not None else None)
        found: Dict[int, List[Tuple[int, List[InnerRepeat]]]] = {}
        for (d, i), reps in zip(where, repeats):
            if reps:
                found.setdefault(d, []).append((i, reps))
        return found

    def _result(self, doc: _Doc, removals: List[Removal], found: List[Tuple[int, List[InnerRepeat]]],
                removed: np.ndarray, first_row: int) -> DedupResult:
        """One document's result: its removals (inner ones among them, in order) and its output text."""
        cuts: List[Tuple[int, int]] = []
        for i, reps in found:
            inner = inner_removals(doc.doc_id, i, int(doc.starts[i]), reps)
            removals.extend(inner)
            cuts.extend((r.start, r.end) for r in inner)
        if found:
            removals.sort(key=lambda r: (r.index, r.start))
        out = doc.text
        if removals:
            out = assemble(doc.text, doc.starts, doc.ends, removed[first_row:first_row + len(doc.starts)], cuts)
        self._count(doc, out, len(removals))
        return make_result(out, doc.doc_id, Spans(doc.starts, doc.ends), removals, len(doc.text))

    def _index_batch(self, docs: List[_Doc], sets: ShingleSets, set_keys: np.ndarray, keys: np.ndarray,
                     new_row: np.ndarray, match: np.ndarray, exact: np.ndarray, row_id: np.ndarray) -> None:
        rows = np.flatnonzero(new_row)
        if len(rows) == 0:
            return
        new_docs = [d for d in docs if d.replay_first < 0]
        lengths = np.diff(sets.offsets)[rows]
        offsets = offsets_of(lengths)
        hashes = sets.hashes[ragged_take(sets.offsets[rows], lengths)] if len(rows) < len(set_keys) else sets.hashes
        para_index = np.concatenate([np.arange(len(d.starts), dtype=np.int64) for d in new_docs]) \
            if new_docs else np.zeros(0, dtype=np.int64)
        batch = IndexBatch(
            set_keys=set_keys[rows],
            band_keys=keys[rows],
            hashes=hashes,
            offsets=offsets,
            shingle_ref=np.where(exact[rows], match[rows], -1),
            doc_ids=[d.doc_id for d in new_docs],
            doc_sizes=np.array([len(d.starts) for d in new_docs], dtype=np.int64),
            para_index=para_index,
            starts=np.concatenate([d.starts for d in new_docs]) if new_docs else np.zeros(0, np.int64),
            ends=np.concatenate([d.ends for d in new_docs]) if new_docs else np.zeros(0, np.int64),
        )
        if self._stored_pairs is not None:  # the band pairs, already sorted (an index may use them)
            batch.sorted_band_pairs = self._stored_pairs
        self._stored_pairs = None
        self.index.add(batch)

    def _count_unchanged(self, docs: List[_Doc]) -> None:
        """:meth:`_count` of documents nothing was removed from, in one go."""
        if not docs:
            return
        st = self.stats
        chars = sum(len(d.text) for d in docs)
        utf8 = sum(d.utf8_size if d.utf8_size >= 0 else utf8_len(d.text) for d in docs)
        st.documents += len(docs)
        st.paragraphs += sum(len(d.starts) for d in docs)
        st.chars_in += chars
        st.chars_out += chars
        st.bytes_in += utf8
        st.bytes_out += utf8

    def _count(self, doc: _Doc, out: str, removed: int) -> None:
        st = self.stats
        st.documents += 1
        st.paragraphs += len(doc.starts)
        st.removed += removed
        st.documents_changed += removed > 0
        st.documents_emptied += bool(removed) and (not out or out.isspace())
        st.chars_in += len(doc.text)
        st.chars_out += len(out)
        bytes_in = doc.utf8_size if doc.utf8_size >= 0 else utf8_len(doc.text)
        st.bytes_in += bytes_in
        st.bytes_out += bytes_in if out is doc.text else (len(out) if out.isascii() else utf8_len(out))


def _shingle_sets_once(paragraphs: List[str], ngram: int, normalization: str, unspaced: str) -> ShingleSets:
    """:func:`shingle_sets`, fingerprinting each distinct paragraph string of the batch once.

    Boilerplate often recurs byte for byte inside a batch; equal strings have equal sets.
    """
    first = dict.fromkeys(paragraphs)
    if len(first) > 0.95 * len(paragraphs):
        return shingle_sets(paragraphs, ngram, normalization, unspaced)
    for i, p in enumerate(first):
        first[p] = i
    distinct = shingle_sets(list(first), ngram, normalization, unspaced)
    rows = np.fromiter(map(first.__getitem__, paragraphs), dtype=np.int64, count=len(paragraphs))
    lengths = np.diff(distinct.offsets)[rows]
    return ShingleSets(distinct.hashes[ragged_take(distinct.offsets[rows], lengths)], offsets_of(lengths),
                       distinct.n_tokens[rows], distinct.set_keys[rows])


def _place(columns: List[list], at: List[int], values) -> None:
    """``columns[j][at[k]] = values[j][k]``: one source's values into their places in the columns."""
    for column, column_values in zip(columns, values):
        for k, v in zip(at, column_values):
            column[k] = v


@dataclass
class _Prepared:
    """A batch fingerprinted ahead of its decisions (see :meth:`BatchEngine._prepare`)."""

    sizes: np.ndarray
    row_first: np.ndarray
    sets: ShingleSets
    keys: Optional[np.ndarray]  #: band keys of every row (None: exact-only)

    @staticmethod
    def concat(parts: Sequence["_Prepared"]) -> "_Prepared":
        """Consecutive parts of one batch, fingerprinted apart, as the whole batch."""
        sizes = np.concatenate([p.sizes for p in parts])
        sets = ShingleSets.concat([p.sets for p in parts])
        if all(p.sets.words is not None for p in parts):
            sets.words = np.concatenate([cast(np.ndarray, p.sets.words) for p in parts])
        keys = None if any(p.keys is None for p in parts) else np.concatenate([cast(np.ndarray, p.keys) for p in parts])
        return _Prepared(sizes, exclusive_cumsum(sizes), sets, keys)


class _Collector:
    """The documents of ``iter_dedupe``'s input, a batch at a time, split and checked."""

    def __init__(self, owner: BatchEngine, texts: Iterable[str],
                 doc_ids: Optional[Iterable[Optional[Hashable]]]) -> None:
        self.owner = owner
        self.ids = iter(doc_ids) if doc_ids is not None else itertools.repeat(None)
        self.source = iter(texts)
        self.pending: Deque[_Doc] = deque()
        self.error: List[BaseException] = []  # a bad input, raised when the batch reaches it
        self.position = 0
        self.seen_paragraphs = 0

    def next_batch_or_error(self) -> Tuple[List[_Doc], Optional[BaseException]]:
        try:
            return self.next_batch(), None
        except Exception as exc:
            return [], exc

    def next_batch(self) -> List[_Doc]:
        """The next batch (empty at the end); a bad document is raised once those before it
        have been handed out."""
        owner = self.owner
        limit = owner.config.batch_paragraphs
        corpus = owner.config.scope == "corpus"
        pending = self.pending
        batch: List[_Doc] = []
        batch_ids: set = set()
        size = 0
        while size < limit:
            if not pending:
                if self.error:
                    if batch:  # the documents before the bad one first: results, index
                        break
                    raise self.error[0]
                # read ahead about what this batch still needs (at most _READ_AHEAD)
                want = 1 if not self.position else -(-(limit - size) * self.position // max(1, self.seen_paragraphs))
                before = self.position
                self.position = owner._read_ahead(self.source, self.ids, pending, self.error, self.position,
                                                  max(1, min(_READ_AHEAD, want)))
                self.seen_paragraphs += sum(len(d.starts) for d in itertools.islice(
                    reversed(pending), self.position - before))
                if not pending and not self.error:
                    break
                continue
            doc = pending[0]
            if corpus and not doc.auto_id:
                if doc.doc_id in batch_ids:
                    # The same id again: index the batch first, so the second copy is
                    # a replay of the first whatever the batch size.
                    break
                batch_ids.add(doc.doc_id)
            pending.popleft()
            batch.append(doc)
            size += len(doc.starts)
        return batch
