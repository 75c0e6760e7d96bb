#!/usr/bin/env python3
"""Plots for the README: throughput vs corpus size, and the LSH S-curve.

    python -m benchmarks.compare --corpus scaled --paragraphs 1000000 --json results.jsonl
    python -m benchmarks.plot --extra results.jsonl                  # writes ./performance.png
    python -m benchmarks.plot --extra results.jsonl --out docs/performance.png   # the README's figure

Left: paragraphs/s of dedup, datasketch and rensa on prefixes of the scaled corpus
(``benchmarks/corpus.py``), measured by ``benchmarks/compare.py`` (one round per size
here, or read from ``--extra`` result files). Right: on
``../shared/data/pairs_natural_stratified.jsonl.gz``, the fraction of pairs whose second
paragraph is removed as a repeat of the first, against their true Jaccard similarity
(word 5-grams), for each system; with the probability that a pair becomes an LSH
candidate under dedup's layout (21 bands x 6 rows) and datasketch's (9 x 13), in theory
(lines) and measured on dedup's signatures (dots). Writes ``--out`` (``performance.png`` in
the current directory unless told otherwise, so the tracked ``docs/`` figure changes only when
asked) and the numbers behind it beside it (``.json``).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("DEDUP_JIT", "1")

import numpy as np

from benchmarks.compare import compare
from benchmarks.corpus import DATA
from benchmarks.systems import shingle_strings

COLORS = {"dedup": "#1b7837", "datasketch": "#762a83", "rensa": "#e08214"}


def throughput(sizes, extra_files):
    rows = []
    for path in extra_files:
        if not Path(path).is_file():
            sys.exit(f"plot.py: error: {path}: no such file (make it with: "
                     f"python -m benchmarks.compare --corpus scaled --paragraphs 1000000 --json {path})")
        rows += [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
    have = {r["paragraphs"] for r in rows if r["corpus"] == "scaled"}
    for n in sizes:
        if not any(abs(h - n) <= n // 100 for h in have):
            print(f"[plot] measuring {n:,} paragraphs", flush=True)
            rows.append(compare("scaled", n, ["dedup", "datasketch", "rensa"], rounds=1, rss=False))
    rows = sorted((r for r in rows if r["corpus"] == "scaled"), key=lambda r: r["paragraphs"])
    return [{"paragraphs": r["paragraphs"],
             **{s: v["paragraphs_per_s"] for s, v in r["systems"].items()}} for r in rows]


def s_curve():
    import xxhash
    from datasketch import MinHash, MinHashLSH
    import rensa

    import dedup
    from dedup.fingerprint.lsh import band_keys
    from dedup.fingerprint.minhash import signatures
    from dedup.fingerprint.shingles import shingle_sets

    with gzip.open(DATA / "pairs_natural_stratified.jsonl.gz", "rt", encoding="utf-8") as f:
        pairs = [json.loads(line) for line in f]
    cfg = dedup.DedupConfig()
    flat = [p for pair in pairs for p in (pair["a"], pair["b"])]
    sets = shingle_sets(flat)
    keys = band_keys(signatures(sets.hashes, sets.offsets, cfg.num_perm, cfg.seed), cfg.layout)
    out = []
    for i, pair in enumerate(pairs):
        a, b = pair["a"], pair["b"]
        candidate = bool(np.any(keys[2 * i] == keys[2 * i + 1]))
        r = dedup.explain(a.strip() + "\n\n" + b.strip(), min_tokens=0)
        removed_dedup = any(x.index == 1 for x in r.removed)
        ma, mb = (MinHash.bulk([[s.encode() for s in shingle_strings(t)]], num_perm=128,
                               hashfunc=xxhash.xxh32_intdigest)[0] for t in (a, b))
        lsh = MinHashLSH(threshold=0.8, num_perm=128)
        lsh.insert("a", ma)
        removed_ds = bool(lsh.query(mb)) and ma.jaccard(mb) >= 0.8
        rd = rensa.RMinHashDeduplicator(threshold=0.8, num_perm=128, use_lsh=True)
        rd.add("a", _rensa_hash(rensa, a))
        removed_rensa = not rd.add("b", _rensa_hash(rensa, b))
        out.append({"jaccard": pair["jaccard5"], "dedup_candidate": candidate, "dedup": removed_dedup,
                    "datasketch": removed_ds, "rensa": removed_rensa})
    return out


def _rensa_hash(rensa, text):
    m = rensa.RMinHash(num_perm=128, seed=42)
    m.update(shingle_strings(text))
    return m


def draw(tp, curve, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6))
    sizes = [r["paragraphs"] for r in tp]
    for s in ("dedup", "rensa", "datasketch"):
        ax1.plot(sizes, [r.get(s, np.nan) for r in tp], "o-", color=COLORS[s], label=s)
    if tp:
        ax1.set_xscale("log")
        ax1.set_yscale("log")
    ax1.set_xlabel("corpus size (paragraphs, scaled Debian + KJV with edits)")
    ax1.set_ylabel("paragraphs / s (one core, end to end)")
    ax1.set_title("Throughput vs corpus size")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend()

    j = np.array([c["jaccard"] for c in curve])
    edges = np.linspace(0, 1, 21)
    mids, counts = [], []
    rates = {k: [] for k in ("dedup", "datasketch", "rensa", "dedup_candidate")}
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (j >= lo) & ((j < hi) if hi < 1 else (j <= hi))
        if sel.sum() < 5:
            continue
        mids.append((lo + hi) / 2)
        counts.append(int(sel.sum()))
        for k in rates:
            rates[k].append(float(np.mean([curve[i][k] for i in np.flatnonzero(sel)])))
    s = np.linspace(0, 1, 200)
    ax2.plot(s, 1 - (1 - s ** 6) ** 21, "-", color=COLORS["dedup"], alpha=0.35, lw=6,
             label="P[candidate], dedup 21x6 (theory)")
    ax2.plot(s, 1 - (1 - s ** 13) ** 9, "-", color=COLORS["datasketch"], alpha=0.35, lw=6,
             label="P[candidate], datasketch 9x13 (theory)")
    ax2.plot(mids, rates["dedup_candidate"], "s", color=COLORS["dedup"], mfc="none", label="dedup candidate (measured)")
    for k in ("dedup", "datasketch", "rensa"):
        ax2.plot(mids, rates[k], "o-", color=COLORS[k], label=f"{k}: removed")
    ax2.axvline(0.8, color="gray", ls=":", lw=1)
    ax2.set_xlabel("true Jaccard similarity of the pair (word 5-grams)")
    ax2.set_ylabel("fraction of pairs")
    ax2.set_title(f"S-curve on {len(curve):,} natural pairs (threshold 0.8)")
    ax2.grid(True, alpha=0.3)
    ax2.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    return {"bins": mids, "pairs_per_bin": counts, **rates}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,30000,100000,300000")
    ap.add_argument("--extra", nargs="*", default=[], help="compare.py --json files to include (e.g. the 1M run)")
    ap.add_argument("--out", type=Path, default=Path("performance.png"),
                    help="the figure (default: ./performance.png; docs/performance.png is the README's)")
    args = ap.parse_args(argv)
    tp = throughput([int(x) for x in args.sizes.split(",") if x], args.extra)
    curve = s_curve()
    bins = draw(tp, curve, args.out)
    args.out.with_suffix(".json").write_text(json.dumps({"throughput": tp, "s_curve": bins}, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
