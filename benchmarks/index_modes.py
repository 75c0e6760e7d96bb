"""Memory and speed of the index modes, each in its own process: the full in-memory index,
exact-only (ExactIndex) and the compact index (CompactIndex: memory-mapped files).

    python -m benchmarks.index_modes [--paragraphs 300000]

Per mode: paragraphs/s (CPU), the process's anonymous memory (RssAnon: what RAM the process
itself holds; mapped index files are page cache, counted apart as RssFile) grown per
paragraph, the bytes on disk, and whether the decisions equal the full index's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks._common import child_env

CHILD = r"""
import hashlib, json, time
import dedup
from dedup.accel import jit
from benchmarks._common import status_kb
from benchmarks.corpus import scaled_documents

def rss(field):
    return status_kb(field) * 1024

texts = [d["text"] for d in scaled_documents({n}, labels=False)]
mode, where = {mode!r}, {where!r}
with jit.use_jit(True):
    dedup.Deduplicator().dedupe_many(texts[:2000])  # kernels loaded before measuring
    anon0, file0 = rss("RssAnon"), rss("RssFile")
    if mode == "compact":
        from dedup.index.compact import CompactIndex
        d = dedup.Deduplicator(index=CompactIndex(where))
    else:
        d = dedup.Deduplicator(exact_only=(mode == "exact"))
    t = time.process_time()
    digest = hashlib.sha256()
    for r in d.iter_dedupe(texts):
        digest.update(repr([(x.index, x.reason, x.matched_doc_id, x.matched_index) for x in r.removed]).encode())
    cpu = time.process_time() - t
    print(json.dumps({{"mode": mode, "paragraphs": d.stats.paragraphs, "cpu_s": round(cpu, 2),
                      "paragraphs_per_s": round(d.stats.paragraphs / cpu),
                      "ram_bytes_per_paragraph": round((rss("RssAnon") - anon0) / d.stats.paragraphs, 1),
                      "page_cache_bytes_per_paragraph": round((rss("RssFile") - file0) / d.stats.paragraphs, 1),
                      "index_bytes_per_paragraph": round(d.index.nbytes / d.stats.paragraphs, 1),
                      "removed": d.stats.removed, "decisions": digest.hexdigest()[:16]}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=300_000)
    args = parser.parse_args()
    rows = []
    for mode in ("full", "exact", "compact"):
        where = tempfile.mkdtemp(prefix="dedup-compact-") + "/index"
        try:
            out = subprocess.run([sys.executable, "-c", CHILD.format(n=args.paragraphs, mode=mode, where=where)],
                                 capture_output=True, text=True, check=True, env=child_env()).stdout
        finally:
            shutil.rmtree(Path(where).parent, ignore_errors=True)
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    full = rows[0]
    for row in rows[1:]:
        print(f"{row['mode']}: {row['paragraphs_per_s'] / full['paragraphs_per_s']:.2f}x the full index's speed, "
              f"decisions {'equal' if row['decisions'] == full['decisions'] else 'differ'}"
              f"{'' if row['mode'] != 'exact' else ' (exact-only: near repeats are not looked for)'}")


if __name__ == "__main__":
    main()
