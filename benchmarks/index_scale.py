"""Scale of the persistent indexes: 1,000,000 indexed paragraphs, SQLite vs in memory.

The Debian copyright files and KJV chapters (39k paragraphs) are copied until the target
count is reached. Each copy edits its paragraphs so they differ: most get a heavy
edit (a tag on every 4th word, so the sets no longer match), about 1 in 10 a light
one (the last word changed, so the copy is a near-duplicate of the original). The same
documents run through a Deduplicator with a MemoryIndex and with a fresh SqliteIndex
(and optionally a RedisIndex). Reported: paragraphs/s, the ratio, the time spent in index
calls per paragraph, file size, bytes per paragraph, the time to reopen the file, and
whether both runs decided the same.

    python -m benchmarks.index_scale --paragraphs 1000000 --path /tmp/scale.dedup
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Dict, List, Tuple


import dedup
from dedup.index.base import Index

from benchmarks._common import read_docs as load


def _edit(paragraph: str, copy: int, rng: random.Random) -> str:
    words = paragraph.split(" ")
    if rng.random() < 0.1:  # light: a near-duplicate of the original
        words[-1] = f"{words[-1]}{copy}"
    else:  # heavy: a different paragraph as far as 5-gram sets go
        words = [f"{w}{copy}" if i % 4 == 0 else w for i, w in enumerate(words)]
    return " ".join(words)


def scaled_corpus(target: int, seed: int = 0) -> Tuple[List[str], List[str]]:
    """Documents (texts, ids) holding about ``target`` paragraphs in total."""
    docs = load("docs_debian_copyright.jsonl.gz") + load("docs_kjv_chapters.jsonl.gz")
    rng = random.Random(seed)
    texts: List[str] = []
    ids: List[str] = []
    count, copy = 0, 0
    while count < target:
        for d in docs:
            text = d["text"]
            if copy:
                pieces = [text[p["start"]:p["end"]] for p in d["paragraphs"]]
                text = "\n\n".join(_edit(p, copy, rng) for p in pieces)
                n = len(pieces)
            else:
                n = len(dedup.split_paragraphs(text)[0])
            texts.append(text)
            ids.append(f"{copy}:{d['doc_id']}")
            count += n
            if count >= target:
                break
        copy += 1
    return texts, ids


class Timed(Index):
    """An index wrapper that adds up the seconds spent in each Index call."""

    def __init__(self, index) -> None:
        self.inner = index
        self.seconds: Dict[str, float] = defaultdict(float)

    def _timed(name):  # noqa: N805 - a decorator factory used in the class body
        def call(self, *args):
            t = time.perf_counter()
            try:
                return getattr(self.inner, name)(*args)
            finally:
                self.seconds[name] += time.perf_counter() - t
        return call

    bind = _timed("bind")
    document = _timed("document")
    first_exact = _timed("first_exact")
    entry_set_keys = _timed("entry_set_keys")
    band_candidates = _timed("band_candidates")
    shingles = _timed("shingles")
    location = _timed("location")
    add = _timed("add")

    def __len__(self) -> int:
        t = time.perf_counter()
        n = len(self.inner)
        self.seconds["len"] += time.perf_counter() - t
        return n

    @contextmanager
    def batch(self):
        t = time.perf_counter()
        with self.inner.batch():
            self.seconds["batch_enter"] += time.perf_counter() - t
            yield self
            t = time.perf_counter()
        self.seconds["batch_exit (commit)"] += time.perf_counter() - t


def measure(index, texts, ids, batch_paragraphs: int) -> dict:
    timed = Timed(index)
    d = dedup.Deduplicator(index=timed, batch_paragraphs=batch_paragraphs)
    t, cpu = time.perf_counter(), time.process_time()
    signature = 0
    removed = 0
    for r in d.iter_dedupe(texts, ids):
        removed += len(r.removed)
        signature = hash((signature, tuple((x.index, x.matched_doc_id, x.matched_index) for x in r.removed)))
    seconds = time.perf_counter() - t
    cpu = time.process_time() - cpu
    n = d.stats.paragraphs
    lookups = sum(v for k, v in timed.seconds.items() if k not in ("add", "batch_exit (commit)", "bind"))
    writes = timed.seconds["add"] + timed.seconds["batch_exit (commit)"]
    return {
        "paragraphs": n, "removed": removed, "seconds": round(seconds, 2),
        "paragraphs_per_s": round(n / seconds), "cpu_seconds": round(cpu, 2),
        "paragraphs_per_cpu_s": round(n / cpu), "decisions_hash": signature,
        "lookup_us_per_paragraph": round(1e6 * lookups / n, 2),
        "write_us_per_paragraph": round(1e6 * writes / n, 2),
        "calls_seconds": {k: round(v, 3) for k, v in sorted(timed.seconds.items())},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paragraphs", type=int, default=1_000_000)
    parser.add_argument("--path", default="/tmp/dedup_index_scale.dedup")
    parser.add_argument("--batch-paragraphs", type=int, default=8192)
    parser.add_argument("--redis", default=None, help="also run against this redis:// URL (fresh prefix)")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args(argv)

    t = time.perf_counter()
    texts, ids = scaled_corpus(args.paragraphs)
    print(f"corpus: {len(texts):,} documents built in {time.perf_counter() - t:.1f} s", flush=True)
    report: dict = {}
    if not args.skip_memory:
        report["memory"] = measure(dedup.MemoryIndex(), texts, ids, args.batch_paragraphs)
        print("memory", json.dumps(report["memory"]), flush=True)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(args.path + suffix):
            os.remove(args.path + suffix)
    sq = dedup.SqliteIndex(args.path)
    report["sqlite"] = measure(sq, texts, ids, args.batch_paragraphs)
    sq.close()
    print("sqlite", json.dumps(report["sqlite"]), flush=True)
    t = time.perf_counter()
    reopened = dedup.SqliteIndex(args.path)
    n = len(reopened)  # loads the key runs into process
    report["sqlite"]["reopen_seconds"] = round(time.perf_counter() - t, 2)
    report["sqlite"]["ram_bytes_per_paragraph"] = round(reopened.nbytes / n, 1)
    info = reopened.info()
    report["sqlite"]["file_bytes"] = info["size_bytes"]
    report["sqlite"]["file_bytes_per_paragraph"] = round(info["size_bytes"] / n, 1)
    if args.redis:
        from dedup.index.redis import import_redis
        client = import_redis().Redis.from_url(args.redis)
        prefix = f"scale-{os.getpid()}:"
        rx = dedup.RedisIndex(client, prefix)
        report["redis"] = measure(rx, texts, ids, args.batch_paragraphs)
        report["redis"]["redis_bytes_per_paragraph"] = round(rx.info()["size_bytes"] / n, 1)
        client.delete(*rx.keys)
        print("redis", json.dumps(report["redis"]), flush=True)
    if "memory" in report:
        m, s = report["memory"], report["sqlite"]
        report["sqlite_vs_memory_throughput"] = round(m["paragraphs_per_s"] / s["paragraphs_per_s"], 2)
        report["sqlite_vs_memory_cpu"] = round(s["cpu_seconds"] / m["cpu_seconds"], 2)
        report["same_decisions"] = m["decisions_hash"] == s["decisions_hash"]
    if "memory_sorted" in report:
        m, s = report["memory_sorted"], report["sqlite"]
        report["sqlite_vs_memory_sorted_throughput"] = round(m["paragraphs_per_s"] / s["paragraphs_per_s"], 2)
        report["sqlite_vs_memory_sorted_cpu"] = round(s["cpu_seconds"] / m["cpu_seconds"], 2)
        report["same_decisions_sorted"] = m["decisions_hash"] == s["decisions_hash"]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
