#!/usr/bin/env python3
"""Score dedup per paragraph against the ground truth in ../shared/data (is_repeat).

    python -m benchmarks.quality [DOCS.jsonl.gz ...] [--threshold 0.8] [--one-by-one]

Runs ``Deduplicator(scope="corpus")`` over the documents in file order. A ground-truth
paragraph counts as removed when removed spans cover at least half of its characters;
paragraphs with n_tokens >= 8 are scored (the data's README explains why). Prints one
JSON line per set, like ../shared/tools/score.py, plus paragraphs/s.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Iterable, Sequence, Tuple

import dedup
from benchmarks._common import DATA, read_docs as load

DEFAULT_SETS = [DATA / "docs_debian_copyright.jsonl.gz", DATA / "docs_kjv_chapters.jsonl.gz"]


def score(docs: Sequence[dict], removed_spans: Iterable[Sequence[Tuple[int, int]]], min_tokens: int = 8) -> dict:
    tp = fp = fn = 0
    for doc, spans in zip(docs, removed_spans):
        for m in doc["paragraphs"]:
            if m["n_tokens"] < min_tokens:
                continue
            s, e = m["start"], m["end"]
            pred = 2 * sum(max(0, min(e, b) - max(s, a)) for a, b in spans) >= e - s
            tp += pred and m["is_repeat"]
            fp += pred and not m["is_repeat"]
            fn += m["is_repeat"] and not pred
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "tp": tp, "fp": fp, "fn": fn}


def run(path: Path, one_by_one: bool = False, **config) -> dict:
    docs = load(path)
    t0 = time.perf_counter()
    d = dedup.Deduplicator(scope="corpus", **config)
    if one_by_one:
        results = [d.dedupe(doc["text"], doc_id=doc["doc_id"]) for doc in docs]
    else:
        results = d.dedupe_many([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])
    secs = time.perf_counter() - t0
    out = {"set": path.name, **score(docs, ([(x.start, x.end) for x in r.removed] for r in results))}
    out.update(paragraphs=d.stats.paragraphs, seconds=round(secs, 2),
               paragraphs_per_s=round(d.stats.paragraphs / secs), layout=str(d.config.layout))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", type=Path, default=DEFAULT_SETS)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--one-by-one", action="store_true", help="call dedupe() per document instead of batching")
    args = ap.parse_args(argv)
    for path in args.sets:
        print(json.dumps(run(path, args.one_by_one, threshold=args.threshold)))


if __name__ == "__main__":
    main()
