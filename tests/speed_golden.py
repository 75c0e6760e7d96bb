"""Golden decisions and fingerprint digests that the optimized hot path must reproduce.

The files under ``tests/golden/`` were written by this module running the *unoptimized*
code of main (commit 423a005, re-recorded after merging it: inner repeats and unspaced scripts
changed a few Debian decisions) on the evaluation document sets; the speed work must not
change a single decision, shingle hash or signature. Regenerate only on purpose:

    PYTHONPATH=. python tests/speed_golden.py

(``scaled_digests.json`` was written the same way, by main's code, for the scaled corpus of
``benchmarks/corpus.py``: decision digests with default settings and with
``max_bucket_candidates=2``, which exercises the bucket limit.)
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Dict, List

import numpy as np
from helpers import shared_data

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
SETS = {"debian": "docs_debian_copyright.jsonl.gz", "kjv": "docs_kjv_chapters.jsonl.gz"}


def load_docs(name: str) -> List[dict]:
    with gzip.open(shared_data(SETS.get(name, name)), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def decisions(docs: List[dict], **overrides) -> List[list]:
    """Per document: every removal as (index, start, end, matched doc, index, start, end, sim, reason)."""
    import dedup

    d = dedup.Deduplicator(**overrides)
    results = d.dedupe_many([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])
    return [[list(r.to_dict().values()) for r in res.removed] for res in results]


def document_scope_decisions(docs: List[dict]) -> List[list]:
    """The same for document scope (repeats inside one document only)."""
    import dedup

    d = dedup.Deduplicator(scope="document")
    results = d.dedupe_many([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])
    return [[list(r.to_dict().values()) for r in res.removed] for res in results]


def fingerprint_digests(docs: List[dict]) -> Dict[str, str]:
    """sha256 of the shingle sets, set keys, signatures and band keys of every paragraph."""
    import dedup
    from dedup.fingerprint.lsh import band_keys

    cfg = dedup.DedupConfig()
    paragraphs = []
    for doc in docs:
        starts, ends = dedup.split_paragraphs(doc["text"])
        paragraphs += [doc["text"][s:e] for s, e in zip(starts.tolist(), ends.tolist())]
    sets = dedup.shingle_sets(paragraphs, cfg.ngram, cfg.normalization)
    sigs = dedup.signatures(sets.hashes, sets.offsets, cfg.num_perm, cfg.seed)
    keys = band_keys(sigs, cfg.layout)

    def digest(a: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()

    return {
        "paragraphs": str(len(paragraphs)),
        "hashes": digest(sets.hashes.astype(np.uint32)),
        "offsets": digest(sets.offsets.astype(np.int64)),
        "n_tokens": digest(sets.n_tokens.astype(np.int64)),
        "set_keys": digest(sets.set_keys.astype(np.uint64)),
        "signatures": digest(sigs.astype(np.uint32)),
        "band_keys": digest(keys.astype(np.uint64)),
    }


def scaled_docs(n_paragraphs: int) -> List[dict]:
    """The benchmarks' scaled corpus (text only): near-duplicates of every kind, 35% repeats."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
    from benchmarks.corpus import scaled_documents

    return scaled_documents(n_paragraphs, labels=False)


def decision_digest(docs: List[dict], **overrides) -> str:
    """sha256 of :func:`decisions` (for corpora too large to store decisions of)."""
    blob = json.dumps(decisions(docs, **overrides), separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


#: Sizes of the scaled corpus whose decision digests are recorded (small one in the default run).
SCALED_SIZES = (30_000, 200_000)


def golden_path(name: str) -> Path:
    return GOLDEN / f"decisions_{name}.json.gz"


def load_golden(name: str) -> dict:
    with gzip.open(golden_path(name), "rt", encoding="utf-8") as f:
        return json.load(f)


def write_golden() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for name in SETS:
        docs = load_docs(name)
        blob = {
            "corpus": decisions(docs),
            "document": document_scope_decisions(docs),
            "digests": fingerprint_digests(docs),
        }
        with gzip.open(golden_path(name), "wt", encoding="utf-8") as f:
            json.dump(blob, f, separators=(",", ":"))
        removed = sum(len(x) for x in blob["corpus"])
        print(f"{name}: {len(docs)} documents, {removed} removals (corpus scope) -> {golden_path(name)}")
    digests = {}
    for n in SCALED_SIZES:
        docs = scaled_docs(n)
        digests[str(n)] = {"default": decision_digest(docs),
                           "limit2": decision_digest(docs, max_bucket_candidates=2, batch_paragraphs=1000)}
        print(f"scaled {n}: {digests[str(n)]}")
    (GOLDEN / "scaled_digests.json").write_text(json.dumps(digests, indent=1) + "\n")


if __name__ == "__main__":
    write_golden()
