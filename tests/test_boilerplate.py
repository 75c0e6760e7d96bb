"""Boilerplate everywhere (``dedup.Boilerplate``, ``dedup --boilerplate K``): count, then clean."""

from __future__ import annotations

import gzip
import io
import json
from collections import defaultdict

import pytest

import dedup
from helpers import shared_data
from dedup.cli import main as cli_main

K = 10


@pytest.fixture(scope="module")
def debian():
    with gzip.open(shared_data("docs_debian_copyright.jsonl.gz"), "rt") as f:
        docs = [json.loads(line) for line in f]
    return [d["text"] for d in docs], [d["doc_id"] for d in docs]


def brute_force_counts(texts, ids):
    """The definition: a unit occurs in its own document and in every document holding a unit
    removed as a repeat of it (the unit a removal names), counted once per document."""
    docs_of = defaultdict(set)
    for result in dedup.Deduplicator().dedupe_many(texts, ids):
        for r in result.removed:
            if r.reason in ("exact", "near", "run", "contained"):
                docs_of[(r.matched_doc_id, r.matched_index)] |= {r.matched_doc_id, result.doc_id}
    return {unit: len(docs) for unit, docs in docs_of.items()}


def test_units_in_k_documents_go_from_all_of_them_and_the_counts_equal_brute_force(debian):
    texts, ids = debian
    want = brute_force_counts(texts, ids)
    b = dedup.Boilerplate(K)
    counts = b.count(texts, ids)
    assert dict(counts.items()) == want
    results = list(b.clean(texts, ids))
    heavy = {unit for unit, n in want.items() if n >= K}
    assert len(heavy) > 20
    by_id = dict(zip(ids, results))
    for result in results:
        for r in result.removed:
            named = (r.matched_doc_id, r.matched_index)
            assert (r.reason == "boilerplate") == (named in heavy)  # a unit that goes names itself
    # every unit counted in >= K documents is gone from its own document and from every one repeating it
    gone = {(res.doc_id, r.index) for res in results for r in res.removed if r.reason != "inner"}
    assert heavy <= gone
    plain = dedup.Deduplicator().dedupe_many(texts, ids)
    for result in plain:
        for r in result.removed:
            if (r.matched_doc_id, r.matched_index) in heavy:
                assert any(x.index == r.index and x.reason == "boilerplate" for x in by_id[result.doc_id].removed)
    # the licence texts themselves are in no output (short ones, "All rights reserved.", stay where
    # nothing repeats them: a short unit is never removed on its own)
    heavy_texts = {texts[ids.index(d)][slice(*plain[ids.index(d)].paragraphs[i])] for d, i in heavy}
    heavy_texts = {t for t in heavy_texts if len(t.split()) >= 8}
    assert len(heavy_texts) > 20
    for result in results:
        starts, ends = dedup.split_paragraphs(result.text)
        assert not heavy_texts & {result.text[s:e] for s, e in zip(starts.tolist(), ends.tolist())}
    assert all(dedup.apply_removals(t, dedup.removal_cuts(t, r.paragraphs, r.removed)) == r.text
               for t, r in zip(texts, results))
    assert b.stats.bytes_out == sum(len(r.text.encode()) for r in results)


def test_counts_do_not_chain_through_a_cluster():
    words = [f"w{i}" for i in range(100)]
    a = " ".join(words)
    b = a.replace("w40 ", "x40 ")  # B repeats A
    c = b.replace("w60 ", "x60 ")  # C repeats B (closer to B than to A)
    docs, ids = [a, b, c, c, c], ["A", "B", "C1", "C2", "C3"]
    plain = dedup.Deduplicator().dedupe_many(docs, ids)
    assert [[(r.matched_doc_id, r.reason) for r in x.removed] for x in plain] == \
        [[], [("A", "near")], [("B", "near")], [("C1", "exact")], [("C1", "exact")]]
    b3 = dedup.Boilerplate(3)
    counts = b3.count(docs, ids)
    assert (counts["A", 0], counts["B", 0], counts["C1", 0]) == (2, 2, 3)  # not 5: one cluster, no chain
    out = list(b3.clean(docs, ids))
    assert [x.text for x in out] == [a, "", "", "", ""]  # A stays: two documents; C1's repeats name C1
    # C1 went as a repeat of B already (B is in two documents: its reason stays); C2, C3 name C1 (three)
    assert [[r.reason for r in x.removed] for x in out] == [[], ["near"], ["near"], ["boilerplate"], ["boilerplate"]]


def test_bad_use_is_refused():
    with pytest.raises(dedup.ConfigError, match="min_documents"):
        dedup.Boilerplate(1)
    with pytest.raises(dedup.ConfigError, match="scope 'corpus'"):
        dedup.Boilerplate(3, scope="document")
    with pytest.raises(dedup.ConfigError, match="count"):
        next(dedup.Boilerplate(3).clean(["x"]))
    with pytest.raises(dedup.ConfigError, match="document ids"):
        dedup.Boilerplate(3, index="x.dedup").count(["x"])


def _records(path, texts, ids):
    path.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids, texts)))


def test_cli_two_passes_and_counts_kept_beside_an_index(tmp_path, debian, monkeypatch, capsys):
    texts, ids = debian
    texts, ids = texts[:150], ids[:150]
    _records(tmp_path / "in.jsonl", texts, ids)
    assert cli_main([str(tmp_path / "in.jsonl"), "--id-field", "id", "--boilerplate", "5", "-o",
                     str(tmp_path / "out.jsonl"), "--report", str(tmp_path / "rep.jsonl"), "-q"]) == 0
    report = [json.loads(x) for x in (tmp_path / "rep.jsonl").read_text().splitlines()]
    lines = [x for x in report if x["reason"] == "boilerplate"]
    want = brute_force_counts(texts, ids)
    assert lines and all(x["count"] == want[(x["matched_doc_id"], x["matched_index"])] >= 5 for x in lines)
    out = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    b = dedup.Boilerplate(5)
    b.count(texts, ids)
    assert [o["text"] for o in out] == [r.text for r in b.clean(texts, ids)]
    # stdin is read once: refused, unless an index keeps the counts of a run over files
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "in.jsonl").read_bytes())))
    assert cli_main(["-", "--boilerplate", "5", "-q"]) == 2
    assert "reads the inputs twice" in capsys.readouterr().err
    index = str(tmp_path / "seen.dedup")
    assert cli_main([str(tmp_path / "in.jsonl"), "--id-field", "id", "--boilerplate", "5", "--index", index,
                     "-o", str(tmp_path / "first.jsonl"), "-q"]) == 0
    assert (tmp_path / "seen.dedup.boilerplate.jsonl").exists()
    assert (tmp_path / "first.jsonl").read_text() == (tmp_path / "out.jsonl").read_text()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO((tmp_path / "in.jsonl").read_bytes())))
    assert cli_main(["-", "--id-field", "id", "--boilerplate", "5", "--index", index,
                     "-o", str(tmp_path / "again.jsonl"), "-q"]) == 0
    assert (tmp_path / "again.jsonl").read_text() == (tmp_path / "out.jsonl").read_text()
