"""Query without insert: read-only deduplicators and indexes, and dedup check (decontamination)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest

import dedup
from helpers import shared_data
from dedup.check import Reference
from dedup.cli import main as cli_main

BENCH = ["What is the capital of the small northern country that borders the sea on three sides?",
         "Compute the sum of the first one hundred odd numbers and explain each step of the method."]
PAGE = ("Some crawled page says hello to all its readers and talks about many other things today.\n\n"
        f"Our quiz: {BENCH[0]} The answer is below, with a long explanation of the region and its history.\n\n"
        f"{BENCH[1]}\n\n{BENCH[1]}")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_read_only_index_is_queried_and_never_written(tmp_path):
    path = tmp_path / "bench.dedup"
    with dedup.SqliteIndex(path) as index:
        dedup.Deduplicator(index=index).dedupe_many(BENCH, ["q1", "q2"])
    before, mtime = _digest(path), path.stat().st_mtime_ns
    os.chmod(path, 0o444)
    try:
        d = dedup.Deduplicator(index=str(path), read_only=True)
        result = d.dedupe(PAGE, "page")
        assert [(r.index, r.matched_doc_id) for r in result.removed] == [(2, "q2"), (3, "q2")]  # not 3 -> 2
        assert len(d.index) == 2
        with pytest.raises(dedup.DedupError, match="read-only"):
            d.index.add(None)  # type: ignore[arg-type]
        d.index.close()
    finally:
        os.chmod(path, 0o644)
    assert _digest(path) == before and path.stat().st_mtime_ns == mtime


def test_read_only_needs_an_existing_index(tmp_path):
    with pytest.raises(dedup.DedupError, match="no index there"):
        dedup.Deduplicator(index=str(tmp_path / "missing.dedup"), read_only=True)
    with pytest.raises(dedup.ConfigError, match="scope 'corpus'"):
        dedup.Deduplicator(read_only=True, scope="document")


def test_reference_hits_with_similarity_and_containment():
    ref = Reference(BENCH, ids=["q1", "q2"])
    result = ref.check(PAGE, "page")
    assert [(h.index, h.ref_doc_id) for h in result.hits] == [(1, "q1"), (2, "q2"), (3, "q2")]
    quiz = result.hits[0]
    assert quiz.containment == 1.0 and quiz.similarity < 0.8  # a short item inside a longer paragraph
    assert result.hits[1].similarity == 1.0
    assert result.text == PAGE.split("\n\n")[0]
    strict = Reference(BENCH, ids=["q1", "q2"], min_containment=1.0, threshold=0.99)
    assert [h.index for h in strict.check("unrelated words only, nothing from the benchmark here at all").hits] == []


def test_reference_from_an_index_equals_reference_from_texts(tmp_path):
    with dedup.SqliteIndex(tmp_path / "b.dedup") as index:
        dedup.Deduplicator(index=index).dedupe_many(BENCH, ["q1", "q2"])
    index = dedup.open_index(tmp_path / "b.dedup", read_only=True)
    try:
        from_index = Reference.from_index(index).check(PAGE, "page")
    finally:
        index.close()
    assert from_index == Reference(BENCH, ids=["q1", "q2"]).check(PAGE, "page")


def test_check_on_real_text_finds_every_planted_verse_and_nothing_else():
    with gzip.open(shared_data("docs_kjv_chapters.jsonl.gz"), "rt") as f:
        chapters = [json.loads(line)["text"] for _, line in zip(range(300), f)]
    bench = [chapters[i].split("\n\n")[3] for i in range(0, 300, 30)]  # 10 verses as a "test split"
    ref = Reference(bench)
    corpus = chapters[150:300]  # holds 5 of them (chapters 150, 180, ... 270)
    hits = [(k, h.ref_doc_id) for k, r in enumerate(ref.check_many(corpus)) for h in r.hits]
    assert sorted({ref_id for _, ref_id in hits}) == [5, 6, 7, 8, 9]
    assert {k for k, _ in hits} >= {0, 30, 60, 90, 120}


def test_cli_check_reports_hits_and_removes_them(tmp_path):
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps({"id": f"q{i + 1}", "question": q}) + "\n"
                                                  for i, q in enumerate(BENCH)))
    (tmp_path / "crawl.jsonl").write_text(json.dumps({"url": "u", "text": PAGE}) + "\n"
                                          + json.dumps({"url": "v", "text": "Nothing from the benchmark."}) + "\n")
    args = [str(tmp_path / "crawl.jsonl"), "--against", str(tmp_path / "bench.jsonl"), "--id-field", "url",
            "--against-id-field", "id", "--against-text-field", "question", "-q"]
    assert cli_main(["check", *args, "-o", str(tmp_path / "clean.jsonl"), "--hits", str(tmp_path / "hits.jsonl")]) == 0
    hits = [json.loads(x) for x in (tmp_path / "hits.jsonl").read_text().splitlines()]
    assert [(h["doc_id"], h["index"], h["ref_doc_id"]) for h in hits] == [("u", 1, "q1"), ("u", 2, "q2"), ("u", 3, "q2")]
    out = [json.loads(x) for x in (tmp_path / "clean.jsonl").read_text().splitlines()]
    assert out == [{"url": "u", "text": PAGE.split("\n\n")[0]}, {"url": "v", "text": "Nothing from the benchmark."}]
    # against a persistent index, opened read-only
    with dedup.SqliteIndex(tmp_path / "bench.dedup") as index:
        dedup.Deduplicator(index=index).dedupe_many(BENCH, ["q1", "q2"])
    before = _digest(tmp_path / "bench.dedup")
    assert cli_main(["check", str(tmp_path / "crawl.jsonl"), "--against", str(tmp_path / "bench.dedup"),
                     "--id-field", "url", "--hits", str(tmp_path / "hits2.jsonl"), "-q"]) == 0
    assert (tmp_path / "hits2.jsonl").read_text() == (tmp_path / "hits.jsonl").read_text()
    assert _digest(tmp_path / "bench.dedup") == before


# -- issue 23: check honours --min-tokens, takes no --scope/--num-perm, reads every index kind ---------

SHORT = "Always read the manual first."  # 5 tokens: one 5-gram, under min_tokens (8)
LONG_DOCS = [f"Paragraph {i} of a long page goes on about topic {i} and then says: {SHORT} Then it goes on."
             for i in range(30)]


def _jsonl(path: Path, texts) -> Path:
    path.write_text("".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(texts)))
    return path


def test_a_short_reference_unit_is_no_hit_unless_min_tokens_allows_it(tmp_path, capsys):
    ref = Reference([SHORT, BENCH[0]], ids=["short", "q1"])
    assert all(not r.hits for r in ref.check_many(LONG_DOCS))
    assert all(r.hits for r in Reference([SHORT], min_tokens=0).check_many(LONG_DOCS))
    assert not Reference([SHORT], min_tokens=0).check("Read the manual.").hits  # not contained
    assert not Reference([SHORT]).check(SHORT).hits  # a short checked unit is no hit either
    corpus, bench = _jsonl(tmp_path / "c.jsonl", LONG_DOCS), _jsonl(tmp_path / "b.jsonl", [SHORT])
    for extra, hits in (([], 0), (["--min-tokens", "0"], 30)):
        assert cli_main(["check", str(corpus), "--against", str(bench), "--hits", str(tmp_path / "h.jsonl"),
                         *extra]) == 0
        assert len((tmp_path / "h.jsonl").read_text().splitlines()) == hits
        assert f": {hits:,} hits in" in capsys.readouterr().err


@pytest.mark.parametrize("option", [["--scope", "document"], ["--num-perm", "64"], ["--containment", "0.9"]])
def test_check_takes_no_scope_num_perm_or_containment(tmp_path, capsys, option):
    corpus = _jsonl(tmp_path / "c.jsonl", LONG_DOCS)
    assert cli_main(["check", str(corpus), "--against", str(corpus), *option]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize("spec_of", [lambda d: str(d / "ref.dedup"), lambda d: str(d / "ref") + "/"],
                         ids=["sqlite", "compact"])
@pytest.mark.parametrize("built_with", [[], ["--exact-only"], ["--num-perm", "64"]],
                         ids=["full", "exact-only", "num-perm-64"])
def test_check_against_every_index_kind_however_it_was_built(tmp_path, capsys, spec_of, built_with):
    """``--against DIR/`` and indexes built exact-only or with other MinHash settings are references:
    only the settings that make a unit's shingle set must match."""
    bench = _jsonl(tmp_path / "bench.jsonl", BENCH)
    page = _jsonl(tmp_path / "page.jsonl", [PAGE])
    spec = spec_of(tmp_path)
    assert cli_main([str(bench), "--index", spec, "-o", str(tmp_path / "o.jsonl"), "-q", *built_with]) == 0
    hits = tmp_path / "hits.jsonl"
    assert cli_main(["check", str(page), "--against", spec, "--hits", str(hits), "-q"]) == 0, capsys.readouterr().err
    from_files = tmp_path / "from_files.jsonl"
    assert cli_main(["check", str(page), "--against", str(bench), "--hits", str(from_files), "-q"]) == 0
    assert hits.read_text() == from_files.read_text() and len(hits.read_text().splitlines()) == 3
    assert [h.ref_doc_id for h in Reference.from_index(spec).check(PAGE).hits] == [
        f"{os.path.realpath(bench)}:{n}" for n in (1, 2, 2)]
    with pytest.raises(dedup.IndexMismatchError, match="ngram=5, now ngram=3"):
        Reference.from_index(spec, ngram=3)


def test_check_help_says_what_check_does_with_each_setting(capsys):
    assert cli_main(["check", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "is a hit (default: 0.8)" in text and "are never hits (default: 8)" in text
    assert "removed only inside a run" not in text and "count as repeats" not in text  # dedup's wording


def test_a_reference_record_without_its_field_names_against_text_field(tmp_path, capsys):
    corpus = _jsonl(tmp_path / "c.jsonl", LONG_DOCS)
    ref = tmp_path / "r.jsonl"
    ref.write_text(json.dumps({"body": BENCH[0]}) + "\n")
    assert cli_main(["check", str(corpus), "--against", str(ref)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{ref}:1: no field 'text'" in err and "with --against-text-field" in err
    assert cli_main(["check", str(corpus), "--against", str(ref), "--against-text-field", "body", "-q"]) == 0


def test_check_summary_counts_in_words(tmp_path, capsys):
    corpus, ref = _jsonl(tmp_path / "c.jsonl", LONG_DOCS[:1]), _jsonl(tmp_path / "r.jsonl", [BENCH[0]])
    assert cli_main(["check", str(corpus), "--against", str(ref), "--hits", str(tmp_path / "h.jsonl")]) == 0
    assert "1 document checked against 1 reference unit: " in capsys.readouterr().err
