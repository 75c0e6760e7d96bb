#!/usr/bin/env python3
"""dedup side by side with datasketch and rensa: same paragraphs, one process per corpus, interleaved rounds.

    python -m benchmarks.compare                                 # short records, Debian and KJV
    python -m benchmarks.compare --corpus scaled --paragraphs 1000000 --rounds 3
    python -m benchmarks.compare --corpus kjv --systems dedup,rensa --no-rss --no-cli --no-first-call

Per corpus (each in a process of its own, holding its corpus as Python objects as a user's does),
every system runs once to warm up, then ``--rounds`` times in rotating order; the table shows
medians of CPU time (``time.process_time``; the machine may be shared): paragraphs/s, MB/s
(UTF-8 bytes of the documents), precision / recall / F1 against the exact ground truth
(paragraphs with >= 8 tokens), and each dedup row's throughput ratio to each peer (median of
the per-round ratios). The dedup rows are the ways a user calls it (``benchmarks/systems.py``):
streamed ``iter_dedupe``, one ``dedupe`` call per document, ``dedupe_arrow`` on a column,
``workers=2``, and the batch path (no C compiler at install: numba, numpy). Peak RSS is measured
for dedup, datasketch and rensa in a subprocess each that loads the corpus and runs once. The
``dedup`` command rows run the corpus as JSONL with ``--workers 1`` and ``2`` (wall seconds,
interleaved, outputs compared byte for byte). The first-call rows start fresh processes (after
``python -m dedup.warmup``): ``import dedup``, the first ``dedupe()`` of a three-paragraph
record, and a job's first 20,000 paragraphs against the same paragraphs once the process is warm.
``--json`` appends the results to a file (for ``benchmarks/plot.py``).
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
    out = subprocess.run([sys.executable, "-m", "benchmarks.compare", "--child", system, "--corpus", corpus,
                          "--paragraphs", str(n)], capture_output=True, text=True, check=True,
                         env={**os.environ, "DEDUP_JIT": "1"}, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


#: A record of three paragraphs, for the first call of a fresh process.
FIRST_RECORD = ("The council shut the harbour road at dawn after waves broke over the old sea wall.\n\n"
                "The ferry to the islands runs as normal, the harbour master said this morning.\n\n"
                "The council shut the harbour road at dawn after waves broke over the old sea wall.\n")
#: Paragraphs of a job that count as its start.
FIRST_PARAGRAPHS = 20_000


def first_call_child(corpus: str, n: int) -> None:
    """Subprocess body: the corpus loaded, then ``import dedup``, the first ``dedupe()`` of a
    three-paragraph record, and the job's first 20,000 paragraphs streamed, against the same
    paragraphs streamed again by a new Deduplicator in this now warm process (CPU seconds: what a
    fresh process pays before it runs at speed, whatever the corpus's mix of long and short)."""
    docs, _ = _load(corpus, n)
    head, seen = [], 0
    for d in docs:
        if seen >= FIRST_PARAGRAPHS:
            break
        head.append(d)
        seen += len(d["paragraphs"])
    texts, ids = [d["text"] for d in head], [d["doc_id"] for d in head]
    t0 = time.perf_counter()
    import dedup

    t1 = time.perf_counter()
    dedup.Deduplicator().dedupe(FIRST_RECORD, "first")
    t2 = time.perf_counter()
    rates = []
    for _ in range(2):  # cold (this fresh process's first job), then warm
        c0 = time.process_time()
        for _ in dedup.Deduplicator().iter_dedupe(texts, ids):
            pass
        rates.append(seen / (time.process_time() - c0))
    print(json.dumps({"import_s": t1 - t0, "first_call_ms": 1000 * (t2 - t1), "first_rate": rates[0],
                      "rest_rate": rates[1]}))


def first_call(corpus: str, n: int, rounds: int) -> dict:
    """Fresh processes (after ``python -m dedup.warmup`` has run once on the machine), medians."""
    subprocess.run([sys.executable, "-m", "dedup.warmup"], capture_output=True, cwd=ROOT)
    env = {k: v for k, v in os.environ.items() if k not in ("DEDUP_JIT",)}
    runs = []
    for _ in range(rounds):
        out = subprocess.run([sys.executable, "-m", "benchmarks.compare", "--child-first-call", "--corpus", corpus,
                              "--paragraphs", str(n)], capture_output=True, text=True, check=True, env=env, cwd=ROOT)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = {k: statistics.median(r[k] for r in runs if r[k] is not None) for k in runs[0] if runs[0][k] is not None}
    if "first_rate" in med and "rest_rate" in med:
        med["first_vs_rest"] = med["first_rate"] / med["rest_rate"]
    return med


def cli_rows(corpus: str, n: int, rounds: int) -> dict:
    """The ``dedup`` command over the corpus as JSONL, ``--workers 1`` and ``2``, interleaved: wall
    seconds (medians), the speed-up, and whether the outputs are byte-identical."""
    import tempfile

    docs, _ = _load(corpus, n)
    folder = Path(tempfile.mkdtemp(prefix="dedup-cli-"))
    src = folder / "in.jsonl"
    with open(src, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"id": d["doc_id"], "text": d["text"]}) + "\n")
    walls: Dict[int, List[float]] = {1: [], 2: []}
    outputs: Dict[int, bytes] = {}
    for r in range(rounds):
        for w in ((1, 2) if r % 2 == 0 else (2, 1)):
            out = folder / f"out{w}.jsonl"
            t0 = time.perf_counter()
            subprocess.run(["dedup", str(src), "-o", str(out), "--id-field", "id", "--workers", str(w), "-q"],
                           check=True, cwd=ROOT)
            walls[w].append(time.perf_counter() - t0)
            outputs[w] = out.read_bytes()
    records = len(docs)
    return {"records": records, "mb": src.stat().st_size / 1e6,
            "workers_1_s": statistics.median(walls[1]), "workers_2_s": statistics.median(walls[2]),
            "speedup": statistics.median(a / b for a, b in zip(walls[1], walls[2])),
            "identical": outputs[1] == outputs[2]}


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
    if "cli" in result:
        c = result["cli"]
        lines += ["", f"dedup command, {c['records']:,} records ({c['mb']:.1f} MB JSONL), median wall s: "
                  f"--workers 1 {c['workers_1_s']:.2f}, --workers 2 {c['workers_2_s']:.2f} "
                  f"({c['speedup']:.2f}x), outputs byte-identical: {c['identical']}"]
    if "first_call" in result:
        f = result["first_call"]
        lines += ["", f"fresh process (after python -m dedup.warmup): import dedup {f.get('import_s', 0):.3f} s, "
                  f"first dedupe() of a 3-paragraph record {f.get('first_call_ms', 0):.1f} ms, the job's first "
                  f"{FIRST_PARAGRAPHS:,} paragraphs at {f.get('first_vs_rest', float('nan')):.2f}x the speed of the "
                  f"same paragraphs in a warm process"]
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", action="append", choices=["records", "short", "debian", "kjv", "real", "scaled"],
                    help="corpus to run (repeatable; default: records, debian and kjv)")
    ap.add_argument("--paragraphs", type=int, default=1_000_000, help="size of the scaled corpus")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    ap.add_argument("--no-first-call", action="store_true", help="skip the fresh-process first-call runs")
    ap.add_argument("--no-cli", action="store_true", help="skip the dedup command rows (--workers 1 and 2)")
    ap.add_argument("--json", type=Path, help="append results (one JSON object per line) to this file")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--child-first-call", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    corpora = args.corpus or ["records", "debian", "kjv"]
    if args.child_first_call:
        first_call_child(corpora[0], args.paragraphs)
        return
    os.environ.setdefault("DEDUP_JIT", "1")  # the batch path's rows: numba's kernels from the first call
    if args.child:
        child(args.child, corpora[0], args.paragraphs)
        return
    if len(corpora) > 1:  # one process per corpus
        rest = [a for a in (argv if argv is not None else sys.argv[1:])]
        rest = [a for i, a in enumerate(rest) if a != "--corpus" and (i == 0 or rest[i - 1] != "--corpus")]
        for corpus in corpora:
            subprocess.run([sys.executable, "-m", "benchmarks.compare", "--corpus", corpus] + rest, check=True, cwd=ROOT)
        return
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        ap.error(f"unknown system(s) {sorted(unknown)}: choose from {sorted(SYSTEMS)}")
    for corpus in corpora:
        result = compare(corpus, args.paragraphs, systems, args.rounds, not args.no_rss)
        if not args.no_cli:
            result["cli"] = cli_rows(corpus, args.paragraphs, args.rounds)
        if not args.no_first_call:
            result["first_call"] = first_call(corpus, args.paragraphs, args.rounds)
        print(table(result), flush=True)
        print(flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            with open(args.json, "a") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
