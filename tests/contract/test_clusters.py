"""Clusters: every unit in a removal decision mapped to its cluster's first member."""

from __future__ import annotations

import gzip
import json

import pytest

import dedup
from helpers import shared_data
from dedup.cli import main as cli_main

WORDS = [f"w{i}" for i in range(60)]
A = " ".join(WORDS)
B = " ".join(WORDS[:15] + ["changed"] + WORDS[16:])  # one word edited: Jaccard 0.84 with A
C = " ".join(WORDS[:15] + ["changed"] + WORDS[16:45] + ["again"] + WORDS[46:])  # another: 0.84 with B, 0.70 with A


def test_chaining_follows_verified_edges_to_the_first_member():
    d = dedup.Deduplicator(clusters=True)
    results = d.dedupe_many([A, B, C, "An unrelated document with words of its own only."], ["a", "b", "c", "d"])
    assert [(r.removed[0].matched_doc_id, round(r.removed[0].similarity, 2)) for r in results[1:3]] == [
        ("a", 0.84), ("b", 0.84)]  # C repeats B, not A (A and C are not near-duplicates)
    assert dict(d.clusters()) == {("a", 0): ("a", 0), ("b", 0): ("a", 0), ("c", 0): ("a", 0)}
    with pytest.raises(dedup.ConfigError):
        dedup.Deduplicator().clusters()


def test_clusters_are_the_same_for_every_batch_size_and_backend(tmp_path):
    with gzip.open(shared_data("docs_debian_copyright.jsonl.gz"), "rt") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(800), f)]
    ids = [f"doc{i}" for i in range(len(texts))]
    seen = []
    for batch, index in ((64, None), (8192, None), (512, dedup.SqliteIndex(tmp_path / "c.dedup"))):
        d = dedup.Deduplicator(clusters=True, batch_paragraphs=batch, index=index)
        d.dedupe_many(texts, ids)
        seen.append(dict(d.clusters()))
        if index is not None:
            index.close()
    assert seen[0] == seen[1] == seen[2] and len(seen[0]) > 100
    firsts = set(seen[0].values())
    assert all(seen[0][f] == f for f in firsts)  # a first member is its own cluster's id


def test_cli_clusters_file_and_report_field(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip("abc", [A, B, C])))
    assert cli_main([str(src), "--id-field", "id", "-o", str(tmp_path / "out.jsonl"), "--report",
                     str(tmp_path / "r.jsonl"), "--clusters", str(tmp_path / "c.jsonl"), "-q"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert lines == [{"doc_id": d, "index": 0, "cluster": ["a", 0]} for d in "abc"]
    assert [json.loads(x)["cluster"] for x in (tmp_path / "r.jsonl").read_text().splitlines()] == [["a", 0], ["a", 0]]


def test_the_audit_page_shows_clusters_and_document_mode(tmp_path):
    pytest.importorskip("matplotlib")
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip("abcd", [A, B, C, A])))
    assert cli_main([str(src), "--id-field", "id", "-o", str(tmp_path / "out.jsonl"), "--report",
                     str(tmp_path / "r.jsonl"), "--clusters", str(tmp_path / "c.jsonl"), "-q"]) == 0
    summary = dedup.write_audit(str(tmp_path / "r.jsonl"), str(src), str(tmp_path / "p.html"), id_field="id")
    page = (tmp_path / "p.html").read_text()
    assert summary.removed == 3 and '<section id="clusters">' in page
    assert "1 clusters of near-duplicates" in page and '<td class="num">4</td>' in page  # a, b, c and d
    dedup.write_audit(input=str(src), output=str(tmp_path / "d.html"), id_field="id", granularity="document")
    assert "removed documents" in (tmp_path / "d.html").read_text()
