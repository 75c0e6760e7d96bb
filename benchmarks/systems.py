"""The three systems compared, each as ``run(docs) -> per-paragraph predictions``.

Every system sees the same corpus. ``dedup`` gets the documents and does its own
paragraph splitting; the peers get the labelled paragraph strings (so the harness does
their splitting for free). ``run`` returns what the system returns (timed);
``predict`` turns it into one bool per labelled paragraph, in order (not timed).

* ``dedup``: ``Deduplicator()`` (corpus scope, default settings), ``iter_dedupe`` (the
  removed spans of each result kept); a paragraph counts as removed when removed spans
  cover at least half of it.
* ``datasketch``: word 5-gram shingles (``re`` ``\\w+`` of ``text.lower()``, UTF-8),
  ``MinHash.bulk(..., num_perm=128, hashfunc=xxhash.xxh32_intdigest)``, then in order:
  ``MinHashLSH(threshold=0.8, num_perm=128).query``, a candidate counts when its
  estimated Jaccard is >= 0.8, and every paragraph is inserted.
* ``rensa``: the same shingle strings into ``RMinHashDeduplicator(threshold=0.8,
  num_perm=128, use_lsh=True).add_pairs`` (its own hashing; duplicates are not added).

How dedup is called, one system each (the same decisions every way):

* ``dedup-percall``: ``Deduplicator.dedupe(text, doc_id)`` once per document (a user's first loop);
* ``dedup-arrow``: ``dedupe_arrow`` on a ``pyarrow`` string array of the documents (built in the call);
* ``dedup-workers2``: ``dedup`` with ``Deduplicator(workers=2)``;
* ``dedup-numba``, ``dedup-numpy`` / ``dedup-numpy-percall``: ``dedup`` / ``dedup-percall`` on the
  batch path (the compiled engine off), numba's kernels or numpy: what an install without a C
  compiler runs, with the ``jit`` extra or without.
* ``rensa-percall``: rensa called once per document (``add_pairs`` with that document's
  paragraphs), the per-item peer of ``dedup-percall``.
"""

from __future__ import annotations

import bisect
import re
from typing import Any, Callable, Dict, List, Sequence

import numpy as np

_WORD = re.compile(r"\w+")


def shingle_strings(text: str, n: int = 5) -> List[str]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]


def run_dedup(docs: Sequence[dict], paragraphs: Sequence[str]):
    """Streams the results (``iter_dedupe``) keeping only the removed spans, as a job writing
    its output would; ``dedupe_many`` would also hold every output text in memory."""
    import dedup

    d = dedup.Deduplicator()
    return [[(r.start, r.end) for r in res.removed]
            for res in d.iter_dedupe([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])]


def run_dedup_percall(docs: Sequence[dict], paragraphs: Sequence[str]):
    """One ``dedupe`` call per document."""
    import dedup

    d = dedup.Deduplicator()
    return [[(r.start, r.end) for r in d.dedupe(doc["text"], doc["doc_id"]).removed] for doc in docs]


def run_dedup_arrow(docs: Sequence[dict], paragraphs: Sequence[str]):
    """``dedupe_arrow`` over the column of texts; returns the removals table."""
    import pyarrow as pa

    import dedup

    _, removals = dedup.dedupe_arrow(pa.array([doc["text"] for doc in docs]), ids=[doc["doc_id"] for doc in docs])
    return removals


def _batch_path(run: Callable, numba: bool) -> Callable:
    """``run`` on the batch path (the compiled engine turned off), on numba's kernels or numpy:
    what an install without a C compiler runs (with the ``jit`` extra, or without)."""
    def batch_run(docs: Sequence[dict], paragraphs: Sequence[str]):
        from dedup.accel import jit, native

        with native.use_native(False), jit.use_jit(numba):
            return run(docs, paragraphs)
    return batch_run


def run_dedup_workers2(docs: Sequence[dict], paragraphs: Sequence[str]):
    """``iter_dedupe`` with ``workers=2``: the next chunk fingerprinted on a second thread."""
    import dedup

    d = dedup.Deduplicator(workers=2)
    return [[(r.start, r.end) for r in res.removed]
            for res in d.iter_dedupe([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])]


def _spans_of_table(docs: Sequence[dict], table) -> list:
    spans: list = [[] for _ in docs]
    for row, start, end in zip(*(table.column(c).to_pylist() for c in ("row", "start", "end"))):
        spans[row].append((start, end))
    return spans


def predict_dedup(docs: Sequence[dict], results) -> np.ndarray:
    """``results``: per document, its removed spans (or a DedupResult)."""
    pred = []
    for doc, res in zip(docs, results):
        spans = sorted((r.start, r.end) for r in res.removed) if hasattr(res, "removed") else sorted(res)
        starts = [a for a, _ in spans]
        for m in doc["paragraphs"]:
            s, e = m["start"], m["end"]
            k = bisect.bisect_left(starts, s) - 1
            covered = 0
            for a, b in spans[max(0, k):]:
                if a >= e:
                    break
                covered += max(0, min(e, b) - max(s, a))
            pred.append(2 * covered >= e - s)
    return np.array(pred, dtype=bool)


def run_datasketch(docs: Sequence[dict], paragraphs: Sequence[str]) -> np.ndarray:
    import xxhash
    from datasketch import MinHash, MinHashLSH

    shingles = [[s.encode("utf-8") for s in shingle_strings(p)] for p in paragraphs]
    minhashes = MinHash.bulk(shingles, num_perm=128, hashfunc=xxhash.xxh32_intdigest)
    del shingles
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    pred = np.zeros(len(paragraphs), dtype=bool)
    for i, m in enumerate(minhashes):
        for key in lsh.query(m):
            if minhashes[key].jaccard(m) >= 0.8:
                pred[i] = True
                break
        lsh.insert(i, m, check_duplication=False)
    return pred


def run_rensa(docs: Sequence[dict], paragraphs: Sequence[str]) -> np.ndarray:
    import rensa

    dedup = rensa.RMinHashDeduplicator(threshold=0.8, num_perm=128, use_lsh=True)
    added = dedup.add_pairs([(str(i), shingle_strings(p)) for i, p in enumerate(paragraphs)])
    return ~np.array(added, dtype=bool)


def run_rensa_percall(docs: Sequence[dict], paragraphs: Sequence[str]) -> np.ndarray:
    import rensa

    dedup = rensa.RMinHashDeduplicator(threshold=0.8, num_perm=128, use_lsh=True)
    added: List[bool] = []
    for doc in docs:
        text = doc["text"]
        added += dedup.add_pairs([(str(len(added) + j), shingle_strings(text[m["start"]:m["end"]]))
                                  for j, m in enumerate(doc["paragraphs"])])
    return ~np.array(added, dtype=bool)


SYSTEMS: Dict[str, Callable[[Sequence[dict], Sequence[str]], Any]] = {
    "dedup": run_dedup,
    "dedup-percall": run_dedup_percall,
    "dedup-arrow": run_dedup_arrow,
    "dedup-workers2": run_dedup_workers2,
    "dedup-numba": _batch_path(run_dedup, True),
    "dedup-numpy": _batch_path(run_dedup, False),
    "dedup-numpy-percall": _batch_path(run_dedup_percall, False),
    "datasketch": run_datasketch,
    "rensa": run_rensa,
    "rensa-percall": run_rensa_percall,
}


def predict(system: str, docs: Sequence[dict], raw) -> np.ndarray:
    """One bool per labelled paragraph: did ``system`` remove it?"""
    if system == "dedup-arrow":
        raw = _spans_of_table(docs, raw)
    return predict_dedup(docs, raw) if system.startswith("dedup") else raw
