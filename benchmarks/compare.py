#!/usr/bin/env python3
"""dedup side by side with datasketch and rensa: same paragraphs, one process per corpus, interleaved rounds.

    python benchmarks/compare.py                                # short documents, Debian and KJV
    python benchmarks/compare.py --corpus scaled --paragraphs 1000000 --rounds 3
    python benchmarks/compare.py --corpus kjv --systems dedup,rensa --no-rss --no-first-run

Per corpus (each in a process of its own), every system runs once to warm up (imports,
compiled kernels), then ``--rounds`` times in rotating order; the table shows medians of
CPU time (``time.process_time``; the machine may be shared): paragraphs/s, MB/s (UTF-8
bytes of the documents), precision / recall / F1 against the exact ground truth
(paragraphs with >= 8 tokens, as ``benchmarks/quality.py``), and each dedup row's
throughput ratio to each peer (median of the per-round ratios). The dedup rows are the
ways a user calls it (``benchmarks/systems.py``): streamed ``iter_dedupe``, one
``dedupe`` call per document, ``dedupe_arrow`` on a column, and the first two on the numpy
path (what an install without numba runs). Peak RSS is measured for dedup, datasketch
and rensa in a subprocess each that loads the corpus and runs once ("corpus" is that
subprocess's RSS before the run). The first-run rows time a fresh process (import and
one streamed run, default settings: kernels after 20,000 paragraphs) with an empty numba
cache against the same with the cache built, interleaved, wall and CPU seconds.
``--json`` appends the results to a file (for ``benchmarks/plot.py``).
In-process rows run dedup's compiled kernels from the start (``DEDUP_JIT=1``).
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
    t0 = time.process_time()
    SYSTEMS[system](docs, paras)
    secs = time.process_time() - t0
    print(json.dumps({"system": system, "corpus_rss_mb": base, "peak_rss_mb": _status_mb("VmHWM"), "seconds": secs}))


#: Systems whose peak RSS is measured (one subprocess each).
RSS_SYSTEMS = ("dedup", "datasketch", "rensa")


def measure_rss(system: str, corpus: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", system, "--corpus", corpus, "--paragraphs", str(n)],
                         capture_output=True, text=True, check=True, env={**os.environ, "DEDUP_JIT": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def first_run_child(corpus: str, n: int) -> None:
    """Subprocess body: load the corpus, then time ``import dedup`` and one streamed run."""
    docs, _ = _load(corpus, n)
    texts, ids = [d["text"] for d in docs], [d["doc_id"] for d in docs]
    w0, c0 = time.perf_counter(), time.process_time()
    import dedup

    for _ in dedup.Deduplicator().iter_dedupe(texts, ids):
        pass
    print(json.dumps({"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}))


def first_run(corpus: str, n: int, rounds: int) -> dict:
    """Fresh processes with an empty kernel cache and with the cache built, interleaved."""
    import shutil
    import signal
    import tempfile

    env = {k: v for k, v in os.environ.items() if k not in ("DEDUP_JIT", "NUMBA_CACHE_DIR")}
    subprocess.run([sys.executable, "-m", "dedup.warmup"], env=env, capture_output=True, cwd=ROOT)  # built cache
    times: Dict[str, List[dict]] = {"empty cache": [], "cache built": []}
    for _ in range(rounds):
        for kind in times:
            cache = tempfile.mkdtemp(prefix="dedup-numba-")
            run_env = {**env, "NUMBA_CACHE_DIR": cache} if kind == "empty cache" else env
            out = subprocess.run([sys.executable, __file__, "--child-first-run", "--corpus", corpus,
                                  "--paragraphs", str(n)], capture_output=True, text=True, check=True, env=run_env)
            times[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
            for lock in Path(cache).rglob("dedup-kernels.building"):  # the background build it started
                try:
                    os.killpg(int(lock.read_text() or "0"), signal.SIGKILL)
                except (ValueError, OSError):
                    pass
            shutil.rmtree(cache, ignore_errors=True)
    return {kind: {"wall": statistics.median(t["wall"] for t in runs), "cpu": statistics.median(t["cpu"] for t in runs)}
            for kind, runs in times.items()}


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
            t0 = time.process_time()
            raw = SYSTEMS[name](docs, paras)
            seconds[name].append(time.process_time() - t0)
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
        if rss and name in RSS_SYSTEMS:
            rows[name].update(measure_rss(name, corpus, n))
    for ours in (s for s in systems if s.startswith("dedup")):
        for name in (s for s in systems if not s.startswith("dedup")):
            ratios = [p / d for d, p in zip(seconds[ours], seconds[name])]
            rows[ours][f"x_{name}"] = statistics.median(ratios)
            rows[ours][f"x_{name}_rounds"] = ratios
    return {"corpus": corpus, "paragraphs": n_par, "documents": len(docs), "mb": mb, "rounds": rounds,
            "systems": rows, "time": time.strftime("%Y-%m-%d %H:%M:%S")}


def table(result: dict) -> str:
    rows = result["systems"]
    peers = [s for s in rows if not s.startswith("dedup")]
    head = (f"{result['corpus']}: {result['paragraphs']:,} paragraphs, {result['documents']:,} documents, "
            f"{result['mb']:.1f} MB, median of {result['rounds']} rounds")
    cols = ["system", "paragraphs/s", "MB/s", "peak RSS MB (corpus)", "P", "R", "F1"] + [f"x {p}" for p in peers]
    lines = [head, "| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for name, r in rows.items():
        rss = f"{r['peak_rss_mb']:,.0f} ({r['corpus_rss_mb']:,.0f})" if "peak_rss_mb" in r else "-"
        cells = [name, f"{r['paragraphs_per_s']:,.0f}", f"{r['mb_per_s']:.2f}", rss,
                 f"{r['precision']:.4f}", f"{r['recall']:.4f}", f"{r['f1']:.4f}"]
        for p in peers:
            cells.append(f"{r[f'x_{p}']:.2f}x" if f"x_{p}" in r else "")
        lines.append("| " + " | ".join(cells) + " |")
    if "first_run" in result:
        fr = result["first_run"]
        lines += ["", "first run (fresh process: import + one streamed run, default settings), median wall / CPU s:",
                  "| numba cache | wall s | CPU s |", "|---|---|---|"]
        lines += [f"| {kind} | {t['wall']:.2f} | {t['cpu']:.2f} |" for kind, t in fr.items()]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", choices=["short", "debian", "kjv", "real", "scaled"],
                    help="corpus to run (repeatable; default: short, debian and kjv)")
    ap.add_argument("--paragraphs", type=int, default=1_000_000, help="size of the scaled corpus")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    ap.add_argument("--no-first-run", action="store_true", help="skip the empty-cache first-run processes")
    ap.add_argument("--json", type=Path, help="append results (one JSON object per line) to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-first-run", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    corpora = args.corpus or ["short", "debian", "kjv"]
    if args.child_first_run:
        first_run_child(corpora[0], args.paragraphs)
        return
    os.environ.setdefault("DEDUP_JIT", "1")  # steady state: the kernels from the first call
    if args.child:
        child(args.child, corpora[0], args.paragraphs)
        return
    if len(corpora) > 1:  # one process per corpus
        rest = [a for a in (argv if argv is not None else sys.argv[1:])]
        rest = [a for i, a in enumerate(rest) if a != "--corpus" and (i == 0 or rest[i - 1] != "--corpus")]
        for corpus in corpora:
            subprocess.run([sys.executable, __file__, "--corpus", corpus] + rest, check=True)
        return
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        ap.error(f"unknown system(s) {sorted(unknown)}: choose from {sorted(SYSTEMS)}")
    for corpus in corpora:
        result = compare(corpus, args.paragraphs, systems, args.rounds, not args.no_rss)
        if not args.no_first_run:
            result["first_run"] = first_run(corpus, args.paragraphs, args.rounds)
        print(table(result), flush=True)
        print(flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            with open(args.json, "a") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
