"""Writes ``format1.dedup`` and ``format1_continued.json`` with a dedup that writes SQLite index
format 1 (0.1, and 0.2 before the compiled engine's batches table): run it with that version on the path.

The corpus is made here, from a seed: documents of a few paragraphs of drawn words, with exact
and edited repeats, ids of several types. The first half is indexed; the JSON holds what the
second half gets against it (the upgraded index must give the same).
"""

import json
import random
import sys
from pathlib import Path

import dedup

HERE = Path(__file__).resolve().parent


def corpus():
    rng = random.Random(20261207)
    words = [f"w{i}" for i in range(400)]
    paras = [" ".join(rng.choice(words) for _ in range(rng.randint(8, 40))) for _ in range(120)]
    docs = []
    for k in range(80):
        chosen = [rng.choice(paras) for _ in range(rng.randint(1, 4))]
        if k % 7 == 3:  # a one-word edit of an earlier paragraph
            p = chosen[0].split()
            p[len(p) // 2] = "edited"
            chosen[0] = " ".join(p)
        docs.append("\n\n".join(chosen))
    ids = [(k, "t") if k % 5 == 1 else k if k % 5 == 2 else f"doc-{k}" for k in range(len(docs))]
    return docs, ids


def decisions(results):
    return [[repr(r.doc_id), r.text, [x.to_dict() for x in r.removed]] for r in results]


if __name__ == "__main__":
    texts, ids = corpus()
    half = len(texts) // 2
    out = {}
    for name, settings in (("full", {}), ("exact-only", {"exact_only": True})):
        path = HERE / f"format1-{name}.dedup"
        assert not path.exists(), f"{path} exists"
        d = dedup.Deduplicator(index=str(path), batch_paragraphs=40, **settings)
        d.dedupe_many(texts[:half], ids[:half])
        d.index.close()
        probe = HERE / "probe.dedup"
        import shutil
        shutil.copy(path, probe)
        d = dedup.Deduplicator(index=str(probe), batch_paragraphs=40, **settings)
        out[name] = decisions(d.dedupe_many(texts[half:], ids[half:]))
        d.index.close()
        for p in HERE.glob("probe.dedup*"):
            p.unlink()
    (HERE / "format1_continued.json").write_text(json.dumps(out, indent=0) + "\n")
    print("written", file=sys.stderr)
