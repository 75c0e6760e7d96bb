"""Boilerplate everywhere (``dedup.Boilerplate``): the cost of counting, then cleaning.

    python -m benchmarks.boilerplate [--paragraphs 200000] [--runs 3] [--min-documents 10]

The scaled corpus (``benchmarks/corpus.py``: the Debian and KJV documents, re-published with
edits; needs ../shared/data). Measured on one core (CPU time, medians of ``--runs``): one plain
run (``Deduplicator.dedupe_many``), the count pass, the clean pass, and both together as a
multiple of the plain run; the units counted, those found in at least K documents and the
removals they make; the memory of the counts (``tracemalloc`` of the count pass's
:class:`~dedup.decide.boilerplate.BoilerplateCounts`) per unit counted. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc

import dedup
from benchmarks.corpus import scaled_documents
from dedup.decide.boilerplate import BoilerplateCounts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--min-documents", type=int, default=10)
    args = parser.parse_args()
    docs = scaled_documents(args.paragraphs, labels=False)
    texts = [d["text"] for d in docs]
    ids = [f"doc-{i}" for i in range(len(texts))]
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    dedup.Deduplicator().dedupe_many(texts[:500])  # tables and kernels loaded
    plain, count, clean = [], [], []
    for _ in range(args.runs):
        started = time.process_time()
        dedup.Deduplicator().dedupe_many(texts, ids)
        plain.append(time.process_time() - started)
        b = dedup.Boilerplate(args.min_documents)
        started = time.process_time()
        counts = b.count(texts, ids)
        count.append(time.process_time() - started)
        started = time.process_time()
        results = list(b.clean(texts, ids))
        clean.append(time.process_time() - started)
    tracemalloc.start()
    measured = BoilerplateCounts()
    for result in dedup.Deduplicator().iter_dedupe(texts, ids):
        measured.add(result)
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    heavy = sum(1 for _, n in counts.items() if n >= args.min_documents)
    removals = sum(r.reason == "boilerplate" for x in results for r in x.removed)
    base = statistics.median(plain)
    print(json.dumps({
        "paragraphs": args.paragraphs, "documents": len(texts), "mb": round(mb, 1), "runs": args.runs,
        "min_documents": args.min_documents, "plain_seconds": round(base, 2),
        "count_seconds": round(statistics.median(count), 2), "clean_seconds": round(statistics.median(clean), 2),
        "both_over_plain": round((statistics.median(count) + statistics.median(clean)) / base, 2),
        "units_counted": len(counts), "units_in_k_documents": heavy, "boilerplate_removals": removals,
        "counts_bytes_per_unit": round(held / max(1, len(measured)), 1),
    }))


if __name__ == "__main__":
    main()
