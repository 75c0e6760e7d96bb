"""Index kinds at scale, one fresh process per run: the figures docs/indexes.md and scale.md quote.

    python -m benchmarks.indexes --sizes 100000,1000000,3000000 --kinds memory,sqlite,compact,exact --json out.jsonl
    python -m benchmarks.indexes --table out.jsonl        # the Markdown tables from a results file

The corpus (issue 28's recipe), streamed and deterministic: the real paragraphs of the shared
Debian and KJV sets, then an endless stream of copies of them, 90% with 30% of their words
replaced by other corpus words (new, distinct paragraphs), 5% exact and 5% with one word
edited; documents of 20 paragraphs (``--doc-size 1``: one paragraph a document, the common
record). For every (kind, size) a fresh process builds the index and reports paragraphs per
CPU-second, peak RSS, its own heap (anonymous RSS growth, page cache of mapped files excluded),
the index's bytes a paragraph (``nbytes``, files on disk); a persistent kind is then reopened
in another fresh process, which adds the next 100,000 paragraphs (CPU seconds against a normal
100,000 of the build, peak RSS against the build's). datasketch and rensa run beside at the sizes
``--peers-up-to`` allows (their memory grows 3 KB a paragraph).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's BLAS threads spin on a 2-core machine

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
_WORD = re.compile(r"(\w+)")
STEP = 100_000  # paragraphs a reopened index adds (and the size of "a normal batch" of the build)


def _seeds() -> List[str]:
    out = []
    for name in ("docs_debian_copyright.jsonl.gz", "docs_kjv_chapters.jsonl.gz"):
        with gzip.open(DATA / name, "rt", encoding="utf-8") as f:
            for line in f:
                doc = json.loads(line)
                out += [doc["text"][p["start"]:p["end"]] for p in doc["paragraphs"]]
    return out


def paragraphs(n: int, seed: int = 0) -> Iterator[str]:
    """``n`` paragraphs of the recipe above, the same for a seed (a prefix of a longer stream)."""
    seeds = _seeds()
    rng = random.Random(seed)
    vocab = sorted({w for p in seeds[:5000] for w in _WORD.findall(p)})
    made: List[str] = []
    for k in range(n):
        if k < len(seeds):
            p = seeds[k]
        else:
            r = rng.random()
            src = made[rng.randrange(len(made))] if made and r >= 0.9 else seeds[rng.randrange(len(seeds))]
            parts = _WORD.split(src)
            if r < 0.9:  # 30% of the words replaced: a new paragraph
                for i in range(1, len(parts), 2):
                    if rng.random() < 0.3:
                        parts[i] = vocab[rng.randrange(len(vocab))]
            elif r >= 0.95 and len(parts) > 1:  # one word edited: a near copy (0.9-0.95: exact)
                i = 2 * rng.randrange(len(parts) // 2) + 1
                parts[i] = vocab[rng.randrange(len(vocab))]
            p = "".join(parts)
        if len(made) < 200_000:
            made.append(p)
        yield p.replace("\n\n", "\n")


def documents(n: int, doc_size: int, skip: int = 0) -> Iterator[Tuple[str, str]]:
    """(text, id) of documents of ``doc_size`` paragraphs, paragraphs [skip, skip + n) of the stream.

    A paragraph's own line breaks become spaces, so that a one-paragraph record is one unit (a
    record without a blank line is split at its line breaks: a verse's lines would be units)."""
    stream = paragraphs(skip + n)
    for _ in range(skip):
        next(stream)
    doc: List[str] = []
    k = skip
    for p in stream:
        doc.append(p.replace("\n", " "))
        if len(doc) == doc_size:
            yield "\n\n".join(doc), f"d{k}"
            k += doc_size
            doc = []
    if doc:
        yield "\n\n".join(doc), f"d{k}"


def _status(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _spec(kind: str, folder: Path) -> Optional[str]:
    return {"memory": None, "exact": None, "sqlite": str(folder / "index.dedup"),
            "compact": str(folder / "index") + "/"}[kind]


def child(kind: str, size: int, doc_size: int, folder: Path, reopen: bool) -> dict:
    """One fresh process: build (or reopen and add STEP paragraphs); figures as JSON."""
    import dedup
    from dedup.index.open import open_index

    skip = size if reopen else 0
    docs = list(documents(STEP if reopen else size, doc_size, skip))
    anon0, rss0 = _status("RssAnon"), _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    spec = _spec(kind, folder)
    settings = {"exact_only": True} if kind == "exact" else {}
    t_open = time.process_time()
    index = open_index(spec, dedup.DedupConfig(scope="corpus", **settings)) if spec else None
    d = dedup.Deduplicator(index=index, **settings) if index is not None else dedup.Deduplicator(**settings)
    opened = time.process_time() - t_open
    cpu, marks, seen = time.process_time(), [], 0
    for (text, _), _ in zip(docs, d.iter_dedupe((t for t, _ in docs), (i for _, i in docs))):
        seen += doc_size
        if seen % STEP < doc_size:
            marks.append(time.process_time() - cpu)
    total = time.process_time() - cpu
    out = {"kind": kind, "size": size, "doc_size": doc_size, "reopen": reopen, "paragraphs": seen,
           "cpu_s": total, "open_cpu_s": opened, "per_cpu_s": seen / total if total else None,
           "step_cpu_s": [b - a for a, b in zip([0.0] + marks, marks)],
           "peak_rss_mb": _status("VmHWM"), "rss_before_mb": rss0, "anon_growth_mb": _status("RssAnon") - anon0,
           "index_len": len(d.index), "index_nbytes": getattr(d.index, "nbytes", None)}
    if spec:
        target = Path(spec)
        files = [target] if target.is_file() else list(target.glob("*")) if target.is_dir() else []
        out["disk_bytes"] = sum(p.stat().st_size for p in files if p.is_file())
        index.close()
    return out


def peer(name: str, size: int) -> dict:
    """datasketch or rensa on the same paragraphs (word 5-gram shingle lists built in Python)."""
    from benchmarks.systems import SYSTEMS

    paras = list(paragraphs(size))
    rss0 = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    cpu = time.process_time()
    SYSTEMS[name]([], paras)
    total = time.process_time() - cpu
    return {"kind": name, "size": size, "doc_size": 1, "reopen": False, "paragraphs": size, "cpu_s": total,
            "per_cpu_s": size / total, "peak_rss_mb": _status("VmHWM"), "rss_before_mb": rss0}


def run(args: List[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.indexes"] + args, capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    if out.returncode:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "child failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows: List[dict]) -> str:
    lines = ["| kind | paragraphs | per doc | paragraphs / CPU-s | peak RSS MB (before) | own heap B/para | "
             "index B/para | on disk B/para | reopen: open s, next 100k CPU s (x a build's 100k), peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["reopen"]:
            continue
        n = r["paragraphs"]
        heap = f"{r['anon_growth_mb'] * 2 ** 20 / n:,.0f}" if "anon_growth_mb" in r else ""
        nb = f"{r['index_nbytes'] / n:,.0f}" if r.get("index_nbytes") else ""
        disk = f"{r['disk_bytes'] / n:,.0f}" if r.get("disk_bytes") else ""
        again = next((x for x in rows if x["reopen"] and (x["kind"], x["size"], x["doc_size"]) ==
                      (r["kind"], r["size"], r["doc_size"])), None)
        reopen = ""
        if again:
            normal = statistics.median(r["step_cpu_s"][-3:]) if r.get("step_cpu_s") else None
            ratio = f" ({again['cpu_s'] / normal:.2f}x)" if normal else ""
            reopen = f"{again['open_cpu_s']:.2f}, {again['cpu_s']:.2f}{ratio}, {again['peak_rss_mb']:,.0f}"
        lines.append(f"| {r['kind']} | {n:,} | {r['doc_size']} | {r['per_cpu_s']:,.0f} | "
                     f"{r['peak_rss_mb']:,.0f} ({r['rss_before_mb']:,.0f}) | {heap} | {nb} | {disk} | {reopen} |")
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000", help="paragraphs per build, comma-separated")
    ap.add_argument("--kinds", default="memory,exact,sqlite,compact")
    ap.add_argument("--doc-size", type=int, default=20, help="paragraphs a document (1: one-paragraph records)")
    ap.add_argument("--peers-up-to", type=int, default=1_000_000, help="largest size datasketch and rensa run at")
    ap.add_argument("--json", type=Path, help="append each run's figures to this file")
    ap.add_argument("--table", type=Path, help="print the Markdown table of a results file and stop")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)  # kind size doc_size folder
    ap.add_argument("--reopen", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--peer", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.table:
        print(table([json.loads(line) for line in args.table.read_text().splitlines() if line.strip()]))
        return
    if args.child:
        kind, size, doc_size, folder = args.child
        print(json.dumps(child(kind, int(size), int(doc_size), Path(folder), args.reopen)))
        return
    if args.peer:
        print(json.dumps(peer(args.peer[0], int(args.peer[1]))))
        return
    rows: List[dict] = []

    def keep(row: dict) -> None:
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(row) + "\n")

    for size in (int(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            folder = Path(tempfile.mkdtemp(prefix="dedup-scale-"))
            try:
                base = ["--child", kind, str(size), str(args.doc_size), str(folder)]
                keep(run(base))
                if kind in ("sqlite", "compact"):
                    keep(run(base + ["--reopen"]))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        if size <= args.peers_up_to:
            for name in ("rensa", "datasketch"):
                keep(run(["--peer", name, str(size)]))
    print(table(rows))


if __name__ == "__main__":
    main()
