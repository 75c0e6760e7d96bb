"""pytest-benchmark suites, one per stage of the hot path, on real and scaled-up text.

    python -m pytest benchmarks --benchmark-enable                     # Debian, KJV, scaled 100k
    DEDUP_BENCH_PARAGRAPHS=1000000 python -m pytest benchmarks --benchmark-enable -k scaled
    python -m pytest benchmarks --benchmark-enable --benchmark-compare  # against a saved run

Stages: split + normalize + shingle, signatures, LSH candidates (band keys, index add and
lookup), verification, the whole ``Deduplicator``. Each records in ``extra_info`` the
paragraphs/s, a digest of its output (a speed-up that changes output shows) and the
precision / recall / F1 of the whole pipeline on the same corpus against the exact
ground truth (a speed-up that loses quality shows). The compiled kernels are used from
the first call (``DEDUP_JIT=1``) unless ``DEDUP_JIT=0`` is set.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

os.environ.setdefault("DEDUP_JIT", "1")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dedup  # noqa: E402
from benchmarks.compare import labels, quality  # noqa: E402
from benchmarks.corpus import documents  # noqa: E402
from benchmarks.systems import predict_dedup  # noqa: E402
from dedup.text.fastsplit import paragraph_spans  # noqa: E402
from dedup.index.memory import MemoryIndex  # noqa: E402
from dedup.index.sorted_table import SortedTable  # noqa: E402
from dedup.fingerprint.lsh import band_keys  # noqa: E402
from dedup.decide.matching import candidate_pairs, ordered_pairs, verify  # noqa: E402
from dedup.fingerprint.minhash import signatures  # noqa: E402
from dedup.fingerprint.shingles import shingle_sets  # noqa: E402

SCALED = int(os.environ.get("DEDUP_BENCH_PARAGRAPHS", "100000"))
CORPORA = ["debian", "kjv", "scaled"]
CFG = dedup.DedupConfig(scope="corpus")


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


class Corpus:
    def __init__(self, name: str) -> None:
        self.name = name
        self.docs = documents(name, SCALED)
        self.texts = [d["text"] for d in self.docs]
        self.ids = [d["doc_id"] for d in self.docs]
        self.n = sum(len(d["paragraphs"]) for d in self.docs)
        results = dedup.Deduplicator().dedupe_many(self.texts, self.ids)
        truth, scored = labels(self.docs)
        q = quality(predict_dedup(self.docs, results), truth, scored)
        self.quality = {k: round(q[k], 5) for k in ("precision", "recall", "f1")}
        self.paragraphs = [t[s:e] for t in self.texts for s, e in zip(*(x.tolist() for x in paragraph_spans(t)))]
        self.sets = shingle_sets(self.paragraphs, CFG.ngram, CFG.normalization)
        self.sigs = signatures(self.sets.hashes, self.sets.offsets, CFG.num_perm, CFG.seed)
        self.keys = band_keys(self.sigs, CFG.layout)


_cache = {}


@pytest.fixture(params=CORPORA)
def corpus(request) -> Corpus:
    if request.param not in _cache:
        _cache[request.param] = Corpus(request.param)
    return _cache[request.param]


def _record(benchmark, corpus: Corpus, digest: str) -> None:
    benchmark.extra_info.update(corpus=corpus.name, paragraphs=corpus.n, output=digest, **corpus.quality)
    if benchmark.stats is not None:
        benchmark.extra_info["paragraphs_per_s"] = round(corpus.n / benchmark.stats.stats.median)


def test_split_normalize_shingle(benchmark, corpus):
    def run():
        paragraphs = [t[s:e] for t in corpus.texts for s, e in zip(*(x.tolist() for x in paragraph_spans(t)))]
        return shingle_sets(paragraphs, CFG.ngram, CFG.normalization)

    sets = benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    _record(benchmark, corpus, _digest(sets.hashes, sets.offsets, sets.set_keys))


def test_signatures(benchmark, corpus):
    sigs = benchmark.pedantic(signatures, args=(corpus.sets.hashes, corpus.sets.offsets, CFG.num_perm, CFG.seed),
                              rounds=5, warmup_rounds=1)
    _record(benchmark, corpus, _digest(sigs))


class _BandIndex:
    """Just the band table of an index (what candidate search touches)."""

    def __init__(self) -> None:
        self.table = SortedTable()

    def __len__(self) -> int:
        return len(self.table)

    def band_candidates_sorted(self, sorted_keys, positions, limit):
        return self.table.lookup_sorted(sorted_keys, positions, limit)


def test_lsh_candidates(benchmark, corpus):
    """Band keys, then batch by batch: candidates from the index and the batch, index add."""
    batch = CFG.batch_paragraphs
    n = len(corpus.sigs)

    def run():
        keys = band_keys(corpus.sigs, CFG.layout)
        index, found = _BandIndex(), 0
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            rows = np.arange(hi - lo, dtype=np.int64)
            row_id = lo + rows
            q, c, stored = candidate_pairs(rows, keys[lo:hi], np.ones(hi - lo, dtype=bool),
                                           np.full(hi - lo, -1, dtype=np.int64), row_id, index, True,
                                           CFG.max_bucket_candidates)
            found += len(ordered_pairs(q, c)[0])
            index.table.add_sorted(*stored)
        return found

    found = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    benchmark.extra_info["distinct_pairs"] = int(found)
    _record(benchmark, corpus, str(found))


def test_verification(benchmark, corpus):
    """Exact Jaccard of every candidate pair inside each batch, first hit per row."""
    n = len(corpus.sigs)
    batch = CFG.batch_paragraphs
    work = []
    for lo in range(0, n, batch):
        hi = min(n, lo + batch)
        rows = np.arange(hi - lo, dtype=np.int64)
        q, c, _ = candidate_pairs(rows, corpus.keys[lo:hi], np.ones(hi - lo, dtype=bool),
                                  np.full(hi - lo, -1, dtype=np.int64), rows, MemoryIndex(), False,
                                  CFG.max_bucket_candidates)
        q, c = ordered_pairs(q, c)
        sub = corpus.sets
        offsets = sub.offsets[lo:hi + 1] - sub.offsets[lo]
        local = dedup.ShingleSets(sub.hashes[sub.offsets[lo]:sub.offsets[hi]], offsets, sub.n_tokens[lo:hi],
                                  sub.set_keys[lo:hi])
        work.append((local, q, c, rows))

    def run():
        matched = 0
        for local, q, c, rows in work:
            match = np.full(len(rows), -1, dtype=np.int64)
            sim = np.zeros(len(rows))
            verify(local, q, c, 0, rows, MemoryIndex(), CFG.threshold, match, sim)
            matched += int(np.sum(match >= 0))
        return matched

    matched = benchmark.pedantic(run, rounds=5, warmup_rounds=1)
    benchmark.extra_info["pairs"] = int(sum(len(w[1]) for w in work))
    _record(benchmark, corpus, str(matched))


def test_deduplicator(benchmark, corpus):
    def run():
        d = dedup.Deduplicator()
        return d.dedupe_many(corpus.texts, corpus.ids)

    results = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    removed = sum(len(r.removed) for r in results)
    benchmark.extra_info["removed"] = removed
    _record(benchmark, corpus, str(removed))
