#!/usr/bin/env python3
"""Peak memory of two large runs, each in a process of its own (prints one JSON line).

    python -m benchmarks.memory_bounds document --mb 200          # one 200 MB document
    python -m benchmarks.memory_bounds stream --paragraphs 10000000  # a stream, document scope

The document is made of random 8-40 word paragraphs over a 50,000-word vocabulary, 10% of
them repeats of a recent one; the stream yields documents of 10 paragraphs, the last
repeating the first. Generation is lazy, so the stream's input never sits in memory.
"""

from __future__ import annotations

import argparse
import json
import random
import time

import dedup
from benchmarks._common import peak_rss_mb


def one_document(mb: int) -> dict:
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(50000)]
    paras, size = [], 0
    while size < mb * 1_000_000:
        p = rng.choice(paras[-1000:]) if paras and rng.random() < 0.1 else \
            " ".join(rng.choice(vocab) for _ in range(rng.randint(8, 40)))
        paras.append(p)
        size += len(p) + 2
    text = "\n\n".join(paras)
    del paras
    before = peak_rss_mb()
    t = time.perf_counter()
    r = dedup.explain(text)
    return {"mode": "document", "mb": round(len(text) / 1e6, 1), "paragraphs": len(r.paragraphs),
            "removed": len(r.removed), "seconds": round(time.perf_counter() - t, 1),
            "rss_before_mb": round(before), "peak_rss_mb": round(peak_rss_mb())}


def stream(paragraphs: int) -> dict:
    rng = random.Random(1)
    vocab = [f"w{i}" for i in range(50000)]

    def docs():
        for _ in range(paragraphs // 10):
            ps = [" ".join(rng.choice(vocab) for _ in range(rng.randint(8, 20))) for _ in range(9)]
            ps.append(ps[0])
            yield "\n\n".join(ps)

    t = time.perf_counter()
    n = removed = 0
    for _, result in dedup.dedupe_stream(docs(), scope="document"):
        n += 1
        removed += len(result.removed)
    secs = time.perf_counter() - t
    return {"mode": "stream", "documents": n, "paragraphs": n * 10, "removed": removed,
            "seconds": round(secs), "peak_rss_mb": round(peak_rss_mb())}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["document", "stream"])
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--paragraphs", type=int, default=10_000_000)
    args = ap.parse_args(argv)
    print(json.dumps(one_document(args.mb) if args.mode == "document" else stream(args.paragraphs)))


if __name__ == "__main__":
    main()
