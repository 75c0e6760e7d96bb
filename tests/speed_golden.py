"""Golden decisions and fingerprint digests that every path must reproduce.

Two sets per corpus, both written by this module:

* ``decisions_NAME.strict.json.gz``: ``preset="strict"`` (word 5-gram Jaccard >= 0.8 alone,
  the data's labels), written by main's unoptimized code (commit 423a005, re-recorded when
  inner repeats and unspaced scripts changed a few Debian decisions) and unchanged since: the
  compiled engine and every later change reproduce them exactly.
* ``decisions_NAME.json.gz``: the defaults. Issue 24 (noisy copies) added line-end
  de-hyphenation and the shortened-copy rule to them; every decision that differs from the
  strict set is one of those rules, recomputed exactly by ``tests/test_golden_changes.py``.

Regenerate only on purpose (the strict files must come out byte-identical):

    PYTHONPATH=. python tests/speed_golden.py

(``scaled_digests.json`` holds the same for the scaled corpus of ``benchmarks/corpus.py``:
decision digests with default settings and with ``max_bucket_candidates=2``, which exercises
the bucket limit, under both presets.)
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


#: The presets golden decisions are kept for, and the file suffix of each.
PRESETS = {"default": "", "strict": ".strict"}


def decisions(docs: List[dict], **overrides) -> List[list]:
    """Per document: every removal as (index, start, end, matched doc, index, start, end, sim, reason)."""
    import dedup

    d = dedup.Deduplicator(**overrides)
    results = d.dedupe_many([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])
    return [[list(r.to_dict().values()) for r in res.removed] for res in results]


def document_scope_decisions(docs: List[dict], **overrides) -> List[list]:
    """The same for document scope (repeats inside one document only)."""
    import dedup

    d = dedup.Deduplicator(scope="document", **overrides)
    results = d.dedupe_many([doc["text"] for doc in docs], [doc["doc_id"] for doc in docs])
    return [[list(r.to_dict().values()) for r in res.removed] for res in results]


def fingerprint_digests(docs: List[dict], preset: str = "default") -> Dict[str, str]:
    """sha256 of the shingle sets, set keys, signatures and band keys of every paragraph."""
    import dedup
    from dedup.config import make_config
    from dedup.fingerprint.lsh import band_keys

    cfg = make_config(default_scope="corpus", preset=preset)
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


def golden_path(name: str, preset: str = "default") -> Path:
    return GOLDEN / f"decisions_{name}{PRESETS[preset]}.json.gz"


def load_golden(name: str, preset: str = "default") -> dict:
    with gzip.open(golden_path(name, preset), "rt", encoding="utf-8") as f:
        return json.load(f)


def write_golden() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for name in SETS:
        docs = load_docs(name)
        for preset in PRESETS:
            blob = {
                "corpus": decisions(docs, preset=preset),
                "document": document_scope_decisions(docs, preset=preset),
                "digests": fingerprint_digests(docs, preset),
            }
            with gzip.open(golden_path(name, preset), "wt", encoding="utf-8") as f:
                json.dump(blob, f, separators=(",", ":"))
            removed = sum(len(x) for x in blob["corpus"])
            print(f"{name} ({preset}): {len(docs)} documents, {removed} removals (corpus scope) -> "
                  f"{golden_path(name, preset)}")
    digests = {}
    for n in SCALED_SIZES:
        docs = scaled_docs(n)
        digests[str(n)] = {}
        for preset, suffix in PRESETS.items():
            key = preset.replace("default", "")
            digests[str(n)][key or "default"] = decision_digest(docs, preset=preset)
            digests[str(n)][f"{key}_limit2" if key else "limit2"] = decision_digest(
                docs, preset=preset, max_bucket_candidates=2, batch_paragraphs=1000)
        print(f"scaled {n}: {digests[str(n)]}")
    (GOLDEN / "scaled_digests.json").write_text(json.dumps(digests, indent=1) + "\n")


if __name__ == "__main__":
    write_golden()
