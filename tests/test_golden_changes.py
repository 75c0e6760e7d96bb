"""What the defaults decide beyond the data's labels, recomputed exactly from the text.

The shared corpora's labels (and ``preset="strict"``, whose decisions are the golden files of
before issue 24) encode word 5-gram Jaccard >= 0.8 alone. The defaults add line-end
de-hyphenation and the shortened-copy rule. Every removal of the default golden decisions
that the strict ones lack must be one of those rules, its reason and value in the report, and
the value must come out the same when recomputed here from the two texts with the public
shingle function; every strict removal stays removed. The counts are printed (``-s``) and
quoted in ``docs/detection.md``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

import dedup
import speed_golden as golden
from dedup.decide.verify import overlap_sorted

FIELDS = ("index", "start", "end", "matched_doc_id", "matched_index", "matched_start", "matched_end",
          "similarity", "reason")


def _sets(*texts: str):
    cfg = dedup.DedupConfig()
    sets = dedup.shingle_sets(list(texts), cfg.ngram, cfg.normalization)
    return [sets.hashes[sets.offsets[i]:sets.offsets[i + 1]] for i in range(len(texts))], sets.n_tokens


def _justified(removal: dict, text: str, by_id: dict, removed_here: set, doc_removals: list) -> str:
    """The rule that makes ``removal`` hold, checked; an assertion error says which did not."""
    cfg = dedup.DedupConfig()
    unit = text[removal["start"]:removal["end"]]
    earlier = by_id[removal["matched_doc_id"]][removal["matched_start"]:removal["matched_end"]]
    (a, b), tokens = _sets(unit, earlier)
    inter = overlap_sorted(a, b)
    reason = removal["reason"]
    if reason == "exact":
        assert np.array_equal(a, b) and removal["similarity"] == 1.0
    elif reason == "near":
        jaccard = inter / (len(a) + len(b) - inter)
        assert jaccard >= cfg.threshold and round(jaccard, 6) == removal["similarity"], (jaccard, removal)
    elif reason == "contained":
        share = inter / len(a)
        assert share >= cfg.containment and round(share, 6) == removal["similarity"], (share, removal)
        assert tokens[0] >= cfg.containment_min_tokens and len(a) >= cfg.containment_min_size * len(b)
    elif reason == "run":  # a short unit inside a run of removed units that holds a long one
        assert tokens[0] < cfg.min_tokens
        run = {r["index"] for r in doc_removals}
        lo = hi = removal["index"]
        while lo - 1 in run:
            lo -= 1
        while hi + 1 in run:
            hi += 1
        assert any(r["reason"] != "run" for r in doc_removals if lo <= r["index"] <= hi), removal
    else:
        raise AssertionError(f"a new removal with reason {reason!r}: {removal}")
    return reason


@pytest.mark.parametrize("name", list(golden.SETS))
def test_every_removal_beyond_the_labels_is_a_rule_recomputed_exactly(name):
    docs = golden.load_docs(name)
    default = golden.load_golden(name)["corpus"]
    strict = golden.load_golden(name, "strict")["corpus"]
    by_id = {doc["doc_id"]: doc["text"] for doc in docs}
    added: Counter = Counter()
    changed: Counter = Counter()
    for doc, new, old in zip(docs, default, strict):
        new_d = [dict(zip(FIELDS, r)) for r in new]
        old_by_unit = {tuple(r[:3]): r for r in old}
        assert old_by_unit.keys() <= {tuple(r[:3]) for r in new}, "a unit the labels remove was kept"
        for r, raw in zip(new_d, new):
            before = old_by_unit.get(tuple(raw[:3]))
            if before == raw or r["reason"] == "inner":
                continue
            reason = _justified(r, doc["text"], by_id, set(), new_d)
            (changed if before is not None else added)[reason] += 1
    print(f"\n{name}: {sum(added.values())} removals beyond the labels {dict(added)}; "
          f"{sum(changed.values())} with another match or value {dict(changed)}")
    assert added or changed  # the rules do change something on these corpora (else this checks nothing)
