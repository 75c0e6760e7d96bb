"""Exact substrings (``exact_substrings=N``): the pass's speed and its memory per token.

    python -m benchmarks.substrings [--mb 50] [--runs 3] [--rss-mb 200]

Corpora (seeded):
- *planted*: documents of 2-8 paragraphs of 20-120 random words (a 50,000-word vocabulary);
  30% of paragraphs carry one of 500 spans of 20-200 words at a random place, so most spans
  recur and every later copy is cut;
- *records*: the same text as short records of ~400 bytes (one paragraph each), where the cost
  per document shows;
- *debian*: the Debian copyright documents of ``../shared/data`` (licence texts pasted
  everywhere), when present.

For N = 20 and 50: the CPU time of the span pass alone (``SubstringPass.amend``: tokens with
spans, winnowing, look-ups, extension, cuts, the rebuilt output), as MB of input text per second
(medians of ``--runs``), and the whole run's time with and without the pass. Memory: the bytes the
store holds in RAM (fingerprint table + document starts) per token stored, and the peak RSS of a
run over ``--rss-mb`` MB of planted text with the pass minus without it (separate processes), per
token. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from typing import Dict, List

import dedup
from benchmarks._common import DATA, ROOT, child_env, read_docs, status_kb
from dedup.decide import substrings


def planted(mb: float, seed: int = 5, records: bool = False) -> List[str]:
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(50_000)]
    spans = [" ".join(rng.choice(vocab) for _ in range(rng.randint(20, 200))) for _ in range(500)]
    texts: List[str] = []
    size = 0
    while size < mb * 1_000_000:
        paragraphs = []
        for _ in range(1 if records else rng.randint(2, 8)):
            words = " ".join(rng.choice(vocab) for _ in range(rng.randint(20, 120 if not records else 60)))
            if rng.random() < 0.3:
                cut = rng.randrange(len(words) + 1)
                cut = words.rfind(" ", 0, cut) + 1 if cut else 0
                words = f"{words[:cut]}{rng.choice(spans)} {words[cut:]}".strip()
            paragraphs.append(words + ".")
        texts.append("\n\n".join(paragraphs))
        size += len(texts[-1])
    return texts


def debian() -> List[str]:
    path = DATA / "docs_debian_copyright.jsonl.gz"
    if not path.exists():
        return []
    return [d["text"] for d in read_docs(path)]


def timed_run(texts: List[str], n: int) -> Dict[str, float]:
    """CPU seconds of a run with the pass (and of the pass alone), and the store's RAM per token."""
    spent = [0.0]
    original = substrings.SubstringPass.amend

    def amend(self, *args):  # type: ignore[no-untyped-def]
        started = time.process_time()
        try:
            return original(self, *args)
        finally:
            spent[0] += time.process_time() - started

    substrings.SubstringPass.amend = amend  # type: ignore[method-assign]
    try:
        d = dedup.Deduplicator(exact_substrings=n)
        started = time.process_time()
        results = d.dedupe_many(texts)
        total = time.process_time() - started
    finally:
        substrings.SubstringPass.amend = original  # type: ignore[method-assign]
    store = d._substrings.store  # type: ignore[union-attr]
    cut = sum(r.reason == "substring" for x in results for r in x.removed)
    return {"run": total, "pass": spent[0], "ram_per_token": store.nbytes / max(1, store.total),
            "tokens": store.total, "cuts": cut}


def measure(name: str, texts: List[str], runs: int) -> Dict[str, object]:
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    dedup.Deduplicator().dedupe_many(texts[:200])  # tables and kernels loaded
    out: Dict[str, object] = {"mb": round(mb, 1), "documents": len(texts)}
    plain = []
    for _ in range(runs):
        started = time.process_time()
        dedup.Deduplicator().dedupe_many(texts)
        plain.append(time.process_time() - started)
    out["run_without_mb_per_s"] = round(mb / statistics.median(plain), 1)
    for n in (20, 50):
        found = [timed_run(texts, n) for _ in range(runs)]
        out[f"n{n}"] = {
            "pass_mb_per_s": round(mb / statistics.median(f["pass"] for f in found), 1),
            "run_mb_per_s": round(mb / statistics.median(f["run"] for f in found), 1),
            "ram_bytes_per_token": round(found[0]["ram_per_token"], 2),
            "tokens": int(found[0]["tokens"]), "cuts": int(found[0]["cuts"]),
        }
    return {name: out}


def child(mb: float, n: int) -> None:
    """One run over planted text in this process; prints (peak RSS in bytes, tokens stored)."""
    texts = planted(mb, seed=11)
    d = dedup.Deduplicator(exact_substrings=n) if n else dedup.Deduplicator()
    for _ in d.iter_dedupe(iter(texts)):
        pass
    peak = (status_kb("VmHWM") or 0) * 1024
    tokens = d._substrings.store.total if d._substrings is not None else 0
    print(json.dumps({"peak": peak, "tokens": tokens}))


def rss_per_token(mb: float, n: int) -> Dict[str, float]:
    def run(k: int) -> dict:
        done = subprocess.run([sys.executable, "-m", "benchmarks.substrings", "--child", str(mb), str(k)],
                              capture_output=True, text=True, check=True, cwd=ROOT, env=child_env())
        return json.loads(done.stdout)
    without, with_pass = run(0), run(n)
    extra = with_pass["peak"] - without["peak"]
    return {"rss_mb": round(mb, 1), "peak_rss_without_mb": round(without["peak"] / 1e6),
            "peak_rss_with_mb": round(with_pass["peak"] / 1e6), "tokens": with_pass["tokens"],
            "extra_rss_bytes_per_token": round(extra / with_pass["tokens"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rss-mb", type=float, default=200)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(float(args.child[0]), int(args.child[1]))
        return
    report: Dict[str, object] = {}
    report.update(measure("planted", planted(args.mb), args.runs))
    report.update(measure("records", planted(args.mb / 5, records=True), args.runs))
    texts = debian()
    if texts:
        report.update(measure("debian", texts, args.runs))
    report["memory_n50"] = rss_per_token(args.rss_mb, 50)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
