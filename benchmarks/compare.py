#!/usr/bin/env python3
"""dedup side by side with datasketch and rensa: same paragraphs, one process, interleaved rounds.

    python benchmarks/compare.py                                # Debian and KJV sets
    python benchmarks/compare.py --corpus scaled --paragraphs 1000000 --rounds 3
    python benchmarks/compare.py --corpus kjv --systems dedup,rensa --no-rss

Per corpus, every system runs once to warm up (imports, compiled kernels), then
``--rounds`` times in rotating order; the table shows medians: paragraphs/s, MB/s
(UTF-8 bytes of the documents), precision / recall / F1 against the exact ground truth
(paragraphs with >= 8 tokens, as ``benchmarks/quality.py``), and dedup's throughput
ratio to each peer (median of the per-round ratios). Peak RSS is measured for each
system in a subprocess of its own that loads the corpus and runs once ("corpus" is that
subprocess's RSS before the run). ``--json`` appends the results to a file (for
``benchmarks/plot.py``). What each system does exactly: ``benchmarks/systems.py``.
dedup runs with its compiled kernels from the start (``DEDUP_JIT=1``; by default a process
loads them after its first 20,000 paragraphs).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

# Steady state: dedup's compiled kernels from the first call (not after its warm-up).
os.environ.setdefault("DEDUP_JIT", "1")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from benchmarks.corpus import documents, paragraphs  # noqa: E402
from benchmarks.systems import SYSTEMS, predict  # noqa: E402


def labels(docs: Sequence[dict]):
    truth = np.array([m["is_repeat"] for d in docs for m in d["paragraphs"]], dtype=bool)
    scored = np.array([m["n_tokens"] >= 8 for d in docs for m in d["paragraphs"]], dtype=bool)
    return truth, scored


def quality(pred: np.ndarray, truth: np.ndarray, scored: np.ndarray) -> Dict[str, float]:
    p, t = pred[scored], truth[scored]
    tp = int(np.sum(p & t))
    fp = int(np.sum(p & ~t))
    fn = int(np.sum(~p & t))
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {"precision": prec, "recall": rec, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def _load(corpus: str, n: int):
    docs = documents(corpus, n)
    return docs, paragraphs(docs)


def child(system: str, corpus: str, n: int) -> None:
    """Subprocess body: load the corpus, reset the peak-RSS mark, run one system once."""
    docs, paras = _load(corpus, n)
    # Keep only the system's own input: documents for dedup, paragraph strings for the peers.
    if system == "dedup":
        docs, paras = [{"doc_id": d["doc_id"], "text": d["text"]} for d in docs], []
    else:
        docs = []
    gc.collect()
    base = _status_mb("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # resets VmHWM (peak RSS) to the current RSS
        f.write("5")
    t0 = time.perf_counter()
    SYSTEMS[system](docs, paras)
    secs = time.perf_counter() - t0
    print(json.dumps({"system": system, "corpus_rss_mb": base, "peak_rss_mb": _status_mb("VmHWM"), "seconds": secs}))


def measure_rss(system: str, corpus: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", system, "--corpus", corpus, "--paragraphs", str(n)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(corpus: str, n: int, systems: List[str], rounds: int, rss: bool) -> dict:
    docs, paras = _load(corpus, n)
    truth, scored = labels(docs)
    n_par = len(paras)
    mb = sum(len(d["text"].encode("utf-8", "surrogatepass")) for d in docs) / 1e6
    warm = docs[: max(1, len(docs) // 50)]
    for name in systems:  # imports, compiled kernels, caches
        SYSTEMS[name](warm, paragraphs(warm))
    seconds: Dict[str, List[float]] = {s: [] for s in systems}
    preds: Dict[str, np.ndarray] = {}
    for r in range(rounds):
        order = systems[r % len(systems):] + systems[: r % len(systems)]
        for name in order:
            gc.collect()
            t0 = time.perf_counter()
            raw = SYSTEMS[name](docs, paras)
            seconds[name].append(time.perf_counter() - t0)
            pred = predict(name, docs, raw)
            del raw
            if name in preds and not np.array_equal(preds[name], pred):
                raise AssertionError(f"{name} gave different results in round {r + 1}")
            preds[name] = pred
    rows = {}
    for name in systems:
        med = statistics.median(seconds[name])
        rows[name] = {"seconds": seconds[name], "paragraphs_per_s": n_par / med, "mb_per_s": mb / med,
                      **quality(preds[name], truth, scored)}
        if rss:
            rows[name].update(measure_rss(name, corpus, n))
    if "dedup" in systems:
        for name in systems:
            if name != "dedup":
                ratios = [p / d for d, p in zip(seconds["dedup"], seconds[name])]
                rows["dedup"][f"x_{name}"] = statistics.median(ratios)
                rows["dedup"][f"x_{name}_rounds"] = ratios
    return {"corpus": corpus, "paragraphs": n_par, "documents": len(docs), "mb": mb, "rounds": rounds,
            "systems": rows, "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def table(result: dict) -> str:
    rows = result["systems"]
    peers = [s for s in rows if s != "dedup"]
    head = (f"{result['corpus']}: {result['paragraphs']:,} paragraphs, {result['documents']:,} documents, "
            f"{result['mb']:.1f} MB, median of {result['rounds']} rounds")
    cols = ["system", "paragraphs/s", "MB/s", "peak RSS MB (corpus)", "P", "R", "F1"] + [f"dedup x {p}" for p in peers]
    lines = [head, "| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for name, r in rows.items():
        rss = f"{r['peak_rss_mb']:,.0f} ({r['corpus_rss_mb']:,.0f})" if "peak_rss_mb" in r else "-"
        cells = [name, f"{r['paragraphs_per_s']:,.0f}", f"{r['mb_per_s']:.2f}", rss,
                 f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}"]
        for p in peers:
            cells.append(f"{rows['dedup'][f'x_{p}']:.1f}x" if name == "dedup" and f"x_{p}" in rows["dedup"] else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", choices=["debian", "kjv", "real", "scaled"],
                    help="corpus to run (repeatable; default: debian and kjv)")
    ap.add_argument("--paragraphs", type=int, default=1_000_000, help="size of the scaled corpus")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--systems", default="dedup,datasketch,rensa")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    ap.add_argument("--json", type=Path, help="append results (one JSON object per line) to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    corpora = args.corpus or ["debian", "kjv"]
    if args.child:
        child(args.child, corpora[0], args.paragraphs)
        return
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        ap.error(f"unknown system(s) {sorted(unknown)}: choose from {sorted(SYSTEMS)}")
    for corpus in corpora:
        result = compare(corpus, args.paragraphs, systems, args.rounds, not args.no_rss)
        print(table(result), flush=True)
        print(flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            with open(args.json, "a") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
