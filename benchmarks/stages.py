"""Each stage of the hot path timed on its own, on real and scaled-up text.

    python -m benchmarks.stages                                    # Debian, KJV, scaled 100k
    python -m benchmarks.stages --corpus scaled --paragraphs 1000000 --rounds 3

Stages: split + normalize + shingle, signatures, LSH candidates (band keys, index add and
lookup), verification, the whole ``Deduplicator``. One JSON line per corpus and stage: the
median paragraphs/s over the rounds (after a warm-up round), a digest of the stage's output (a
speed-up that changes output shows) and the precision / recall / F1 of the whole pipeline on
the same corpus against the exact ground truth (a speed-up that loses quality shows). The
numba kernels are used from the first call (``DEDUP_JIT=1``) unless ``DEDUP_JIT=0`` is set;
the stages are those of the batch path (``Deduplicator`` runs the compiled engine when built).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from typing import Any, Callable, Dict, Tuple

os.environ.setdefault("DEDUP_JIT", "1")  # before dedup is imported: the kernels from the first call

import numpy as np

import dedup
from benchmarks.compare import labels, quality
from benchmarks.corpus import documents
from benchmarks.systems import predict_dedup
from dedup.decide.matching import candidate_pairs, ordered_pairs, verify
from dedup.fingerprint.lsh import band_keys
from dedup.fingerprint.minhash import signatures
from dedup.fingerprint.shingles import shingle_sets
from dedup.index.memory import MemoryIndex
from dedup.index.sorted_table import SortedTable
from dedup.text.fastsplit import paragraph_spans

CORPORA = ["debian", "kjv", "scaled"]
CFG = dedup.DedupConfig(scope="corpus")


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


class Corpus:
    """A corpus with what every stage starts from (the output of the stages before it)."""

    def __init__(self, name: str, scaled: int) -> None:
        self.name = name
        self.docs = documents(name, scaled)
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


Stage = Tuple[Callable[[], Any], Callable[[Any], Dict[str, Any]]]  # (run, what its output says)


def split_normalize_shingle(corpus: Corpus) -> Stage:
    def run():
        paragraphs = [t[s:e] for t in corpus.texts for s, e in zip(*(x.tolist() for x in paragraph_spans(t)))]
        return shingle_sets(paragraphs, CFG.ngram, CFG.normalization)

    return run, lambda sets: {"output": _digest(sets.hashes, sets.offsets, sets.set_keys)}


def minhash_signatures(corpus: Corpus) -> Stage:
    def run():
        return signatures(corpus.sets.hashes, corpus.sets.offsets, CFG.num_perm, CFG.seed)

    return run, lambda sigs: {"output": _digest(sigs)}


class _BandIndex:
    """Just the band table of an index (what candidate search touches)."""

    def __init__(self) -> None:
        self.table = SortedTable()

    def __len__(self) -> int:
        return len(self.table)

    def band_candidates_sorted(self, sorted_keys, positions, limit):
        return self.table.lookup_sorted(sorted_keys, positions, limit)


def lsh_candidates(corpus: Corpus) -> Stage:
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

    return run, lambda found: {"output": str(found), "distinct_pairs": int(found)}


def verification(corpus: Corpus) -> Stage:
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

    pairs = int(sum(len(w[1]) for w in work))
    return run, lambda matched: {"output": str(matched), "pairs": pairs}


def deduplicator(corpus: Corpus) -> Stage:
    def run():
        return dedup.Deduplicator().dedupe_many(corpus.texts, corpus.ids)

    def says(results) -> Dict[str, Any]:
        removed = sum(len(r.removed) for r in results)
        return {"output": str(removed), "removed": removed}

    return run, says


STAGES = {"split_normalize_shingle": split_normalize_shingle, "signatures": minhash_signatures,
          "lsh_candidates": lsh_candidates, "verification": verification, "deduplicator": deduplicator}


def timed(stage: Stage, rounds: int) -> Tuple[float, Dict[str, Any]]:
    """The median seconds of ``rounds`` runs after a warm-up run, and what the output says."""
    run, says = stage
    result = run()
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), says(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", choices=CORPORA, nargs="+", default=CORPORA)
    parser.add_argument("--paragraphs", type=int, default=100_000, help="size of the scaled corpus")
    parser.add_argument("--stages", choices=list(STAGES), nargs="+", default=list(STAGES))
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    for name in args.corpus:
        corpus = Corpus(name, args.paragraphs)
        for stage in args.stages:
            seconds, says = timed(STAGES[stage](corpus), args.rounds)
            print(json.dumps({"corpus": name, "stage": stage, "paragraphs": corpus.n,
                              "paragraphs_per_s": round(corpus.n / seconds), **says, **corpus.quality}), flush=True)


if __name__ == "__main__":
    main()
