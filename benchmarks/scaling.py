#!/usr/bin/env python3
"""Does dedup's cost grow linearly? Throughput and index size at several corpus sizes, one process.

    python -m benchmarks.scaling --sizes 100000,1000000 --rounds 3

Runs ``Deduplicator().dedupe_many`` on prefixes of the scaled corpus, sizes interleaved
round by round, and prints per size: median paragraphs/s (wall and CPU), its ratio to
the smallest size, and ``MemoryIndex.nbytes / len(index)`` (bytes per indexed paragraph).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time

os.environ.setdefault("DEDUP_JIT", "1")  # before dedup is imported: the kernels from the first call

import dedup
from benchmarks.corpus import documents


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",")]
    corpora = {n: documents("scaled", n) for n in sizes}
    inputs = {n: ([d["text"] for d in docs], [d["doc_id"] for d in docs]) for n, docs in corpora.items()}
    del corpora
    dedup.Deduplicator().dedupe_many(*(x[:300] for x in inputs[sizes[0]]))  # load kernels
    wall = {n: [] for n in sizes}
    cpu = {n: [] for n in sizes}
    per_paragraph = {}
    for _ in range(args.rounds):
        for n in sizes:
            gc.collect()
            d = dedup.Deduplicator()
            t0, c0 = time.perf_counter(), time.process_time()
            d.dedupe_many(*inputs[n])
            wall[n].append(n / (time.perf_counter() - t0))
            cpu[n].append(n / (time.process_time() - c0))
            per_paragraph[n] = d.index.nbytes / len(d.index)
            del d
    base = sizes[0]
    rows = []
    for n in sizes:
        row = {"paragraphs": n, "wall_per_s": statistics.median(wall[n]), "cpu_per_s": statistics.median(cpu[n]),
               "index_bytes_per_paragraph": per_paragraph[n]}
        row["wall_vs_first"] = row["wall_per_s"] / statistics.median(wall[base])
        row["cpu_vs_first"] = row["cpu_per_s"] / statistics.median(cpu[base])
        rows.append(row)
        print(f"{n:>10,} paragraphs: {row['wall_per_s']:>9,.0f}/s wall ({row['wall_vs_first']:.2f}x of {base:,}), "
              f"{row['cpu_per_s']:>9,.0f}/s CPU ({row['cpu_vs_first']:.2f}x), "
              f"index {row['index_bytes_per_paragraph']:.0f} bytes/paragraph", flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
