"""Per-item contamination at scale: a 10,000-item benchmark against a large JSONL corpus.

    python -m benchmarks.contamination [--mb 1000] [--runs 3]

The benchmark: 500 KJV verses (random, seeded: they are in the corpus) and 9,500 items from the
prose paragraphs of ``../shared/data`` (Debian's manuals, mostly not in it): their 8,704
sentences of at least 8 words and 796 whole paragraphs. The corpus: the Debian copyright documents and the KJV chapters as JSONL
records, repeated (ids made unique) up to ``--mb`` megabytes, written once to
``benchmarks/.cache``. Measured on one core (CPU time, medians of ``--runs``):

- ``dedup check CORPUS --against BENCH --ngram 13 --items FILE`` as a subprocess (reading the
  JSONL included), in MB of corpus file per second;
- its stages in this process: reading the records, tokenizing (the engine's tokenizer), the
  n-gram kernel, and ``Contamination.scan`` of the texts (tokens of ASCII texts made inside the
  kernel's call);
- peak memory (RSS) of the command.

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import dedup
from benchmarks._common import child_env, read_docs
from benchmarks.corpus import CACHE
from dedup.fingerprint.grams import word_hashes_of
from dedup.io import open_source, read_source
from dedup.text.settings import TextSettings


def benchmark_file() -> Path:
    path = CACHE / "contamination_bench_v3.jsonl"
    if not path.exists():
        chapters = read_docs("docs_kjv_chapters.jsonl.gz")
        verses = [v for c in chapters for v in c["text"].split("\n") if v.strip()]
        prose = [p["text"] for p in read_docs("prose_paragraphs.jsonl.gz")]
        sentences = [s.strip() for p in prose for s in p.split(". ") if len(s.split()) >= 8]
        rng = random.Random(1)
        fill = 9_500 - len(sentences)  # the rest: whole paragraphs
        items = rng.sample(verses, 500) + sentences + prose[:fill]  # 500 in the corpus, 9,500 (mostly) not
        rng.shuffle(items)
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            for k, text in enumerate(items):
                f.write(json.dumps({"id": f"item-{k}", "text": text}) + "\n")
    return path


def corpus_file(mb: int) -> Path:
    path = CACHE / f"contamination_corpus_{mb}mb.jsonl"
    if not path.exists():
        docs = read_docs("docs_debian_copyright.jsonl.gz") + read_docs("docs_kjv_chapters.jsonl.gz")
        lines = [json.dumps({"id": d["doc_id"], "text": d["text"]}) for d in docs]
        CACHE.mkdir(parents=True, exist_ok=True)
        size, copy = 0, 0
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            while size < mb * 1_000_000:
                for d, line in zip(docs, lines):
                    out = line.replace(json.dumps(d["doc_id"]), json.dumps(f"{d['doc_id']}#{copy}"), 1) + "\n"
                    f.write(out)
                    size += len(out.encode("utf-8"))
                copy += 1
        os.replace(tmp, path)
    return path


def stages(bench: Path, corpus: Path, limit_mb: int = 50) -> dict:
    """CPU seconds per MB of each stage, on the first ``limit_mb`` MB of the corpus."""
    items = [r.text for r in read_source(open_source(str(bench)), "text", "id")]
    started = time.process_time()
    check = dedup.Contamination(items)
    build = time.process_time() - started
    texts, size = [], 0
    with open(corpus, "rb") as f:
        for raw in f:
            size += len(raw)
            texts.append(json.loads(raw)["text"])
            if size >= limit_mb * 1_000_000:
                break
    t = time.process_time()
    for _ in read_source(open_source(str(corpus)), "text", "id"):
        pass
    read = (time.process_time() - t) / (os.path.getsize(corpus) / 1e6)
    word_hashes_of(["café ﬁne"], TextSettings())  # the engine's character tables loaded
    t = time.process_time()
    words, counts = word_hashes_of(texts, TextSettings())
    tokens = (time.process_time() - t) / (size / 1e6)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    t = time.process_time()
    check._set.scan(words, offsets)
    kernel = (time.process_time() - t) / (size / 1e6)
    t = time.process_time()
    check.scan(texts)
    scan = (time.process_time() - t) / (size / 1e6)
    return {"build_seconds": round(build, 2), "benchmark_ngrams": len(check._keys),
            "read_mb_per_s": round(1 / read, 1), "tokenize_mb_per_s": round(1 / tokens, 1),
            "kernel_mb_per_s": round(1 / kernel, 1), "scan_mb_per_s": round(1 / scan, 1)}


def command(bench: Path, corpus: Path, out: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "dedup", "check", str(corpus), "--id-field", "id", "--against", str(bench),
                    "--against-id-field", "id", "--ngram", "13", "--items", str(out), "-q"],
                   check=True, env=child_env())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu_seconds": cpu, "peak_rss_mb": after.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1000, help="corpus size in MB of JSONL (default 1000)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bench, corpus = benchmark_file(), corpus_file(args.mb)
    size = os.path.getsize(corpus) / 1e6
    out = CACHE / "contamination_items.jsonl"
    runs = [command(bench, corpus, out) for _ in range(args.runs)]
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    summary = json.loads(out.read_text(encoding="utf-8").splitlines()[-1])["summary"]
    print(json.dumps({"corpus_mb": round(size, 1), "items": summary["items"], "contaminated": summary["contaminated"],
                      "documents": summary["documents"], "command_cpu_seconds": round(cpu, 1),
                      "command_mb_per_s": round(size / cpu, 1), "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
                      "runs": args.runs, **stages(bench, corpus)}))


if __name__ == "__main__":
    main()
