"""Scaling with Deduplicator(workers=N): paragraphs/s for N = 1, 2 (interleaved runs, medians),
the same decisions for every N, and the serial share that predicts larger N (Amdahl).

    python -m benchmarks.workers [--paragraphs 200000] [--runs 3] [--workers 1 2]

Uses the scaled corpus (benchmarks/corpus.py; needs ../shared/data) with numba.
"""

from __future__ import annotations

import argparse
import statistics
import time

import dedup
from benchmarks.corpus import scaled_documents
from dedup.accel import jit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    texts = [d["text"] for d in scaled_documents(args.paragraphs, labels=False)]
    with jit.use_jit(True):
        dedup.Deduplicator().dedupe_many(texts[:3000])  # kernels loaded
        walls: dict = {}
        outputs: dict = {}
        for _ in range(args.runs):
            for n in args.workers:
                start = time.perf_counter()
                results = dedup.Deduplicator(workers=n).dedupe_many(texts)
                walls.setdefault(n, []).append(time.perf_counter() - start)
                outputs[n] = [(r.text, r.removed) for r in results]
    base = args.workers[0]
    assert all(outputs[n] == outputs[base] for n in args.workers), "decisions differ between worker counts"
    t1 = statistics.median(walls[base])
    for n in args.workers:
        wall = statistics.median(walls[n])
        line = f"workers={n}: {args.paragraphs / wall:,.0f} paragraphs/s (median of {args.runs}), {t1 / wall:.2f}x"
        if n > 1:
            serial = (wall / t1 - 1 / n) / (1 - 1 / n)  # Amdahl: wall/t1 = s + (1 - s) / n
            line += (f"; serial share {serial:.0%}, predicting {1 / (serial + (1 - serial) / 8):.1f}x at 8 and "
                     f"{1 / (serial + (1 - serial) / 16):.1f}x at 16")
        print(line)
    print("decisions identical for every worker count")


if __name__ == "__main__":
    main()
