"""The report reproduces the output: deleting every reported [cut_start, cut_end) from the input gives it.

Checked on every shared corpus (the Debian and KJV document sets, the seed), on the golden
cases, for paragraph, sentence and inner removals, in document and corpus scope, and
through the command line's --report file.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from dedup.io.report import REPORT_FIELDS, ReportWriter, apply_removals, read_report
from dedup.text.assemble import removal_cuts

from helpers import ROOT, shared_data

CASES = json.loads((Path(__file__).resolve().parents[1] / "cases" / "golden.json").read_text(encoding="utf-8"))


def _replays(texts, results):
    """Every result's output from its input and its removals' cut spans; how many removals there were."""
    n = 0
    for text, r in zip(texts, results):
        cuts = removal_cuts(text, r.paragraphs, r.removed)
        assert apply_removals(text, cuts) == r.text, r.doc_id
        for (start, end), rem in zip(cuts, r.removed):  # the cut holds what was removed
            assert start <= rem.start and rem.end <= end
            assert text[start:rem.start].isspace() or start == rem.start
            assert text[rem.end:end].isspace() or rem.end == end
        n += len(r.removed)
    return n


@pytest.mark.parametrize("granularity", ["paragraph", "sentence"])
@pytest.mark.parametrize("scope", ["document", "corpus"])
def test_replay_on_the_shared_document_sets(debian_docs, kjv_docs, granularity, scope):
    for docs in (debian_docs, kjv_docs):
        texts = [d["text"] for d in docs]
        results = dedup.Deduplicator(scope=scope, granularity=granularity).dedupe_many(
            texts, [d["doc_id"] for d in docs])
        assert _replays(texts, results) > 50


def test_replay_on_the_seed_and_inner_removals(seed_text, example_text):
    first = seed_text.split("\n")[0]
    texts = [seed_text, seed_text.replace("\n", " "), " ".join([first] * 4) + "\n",
             example_text, "Intro line.\n\n" + " ".join([example_text.strip()] * 3) + "\n\nOutro line.\n",
             " ".join(["The quick brown fox jumps over the lazy dog near the river bank."] * 40)]
    results = [dedup.explain(t) for t in texts]
    assert _replays(texts, results) >= len(texts)
    assert sum(rem.reason == "inner" for r in results for rem in r.removed) >= 4
    sentence = [dedup.explain(t, granularity="sentence") for t in texts]
    assert _replays(texts, sentence) > len(texts)


@pytest.mark.parametrize("granularity", ["paragraph", "sentence"])
def test_replay_on_the_golden_cases(granularity):
    texts = [c["input"] for c in CASES]
    assert _replays(texts, [dedup.explain(t, granularity=granularity) for t in texts]) > 5


def test_separator_rule_examples():
    """One rule: a removed paragraph goes with the separator before it (docs/contract.md)."""
    a = "A paragraph long enough to be removed when it repeats."
    b = "Another paragraph that stays."
    for text, out in [(f"{a}\n\n{a}\n\n\n\n{b}", f"{a}\n\n\n\n{b}"),
                      (f"{a}\n\n\n\n{a}\n\n{b}", f"{a}\n\n{b}"),
                      (f"{a}\n{a}\n{b}\n", f"{a}\n{b}\n"),
                      (f"{a}\n\n{b}\n\n{a}\n", f"{a}\n\n{b}\n")]:
        r = dedup.explain(text)
        assert r.text == out
        ((cut_start, cut_end),) = removal_cuts(text, r.paragraphs, r.removed)
        assert text[cut_start:cut_end] == text[r.paragraphs[0][1]:r.removed[0].end] or cut_start < r.removed[0].start
        assert apply_removals(text, [(cut_start, cut_end)]) == out


def test_corpus_scope_document_losing_its_first_paragraphs():
    """A removed unit before the first kept one takes the separator after it (leading text stays)."""
    a = "A paragraph long enough to be removed when it repeats."
    b = "A second paragraph long enough to be removed as well."
    texts = [f"{a}\n\n{b}\n", f"\n{a}\n\n{b}\n\nNew text here.\n", f"{a}\n\n{b}\n"]
    results = dedup.Deduplicator().dedupe_many(texts)
    assert [r.text for r in results] == [texts[0], "\nNew text here.\n", ""]
    assert _replays(texts, results) == 4


def test_report_file_round_trip_and_replay(tmp_path):
    text = "Same paragraph of enough words to count here.\n\nOther.\n\nSame paragraph of enough words to count here.\n"
    result = dedup.explain(text)
    path = tmp_path / "removed.jsonl"
    writer = ReportWriter(str(path))
    writer.write("doc-1", text, result.removed, result.paragraphs)
    writer.commit()
    (line,) = read_report(str(path))
    assert tuple(line) == REPORT_FIELDS
    assert (line["cut_start"], line["cut_end"]) == (text.index("\n\nOther") + 8, len(text) - 1)
    assert apply_removals(text, [line]) == result.text == "Same paragraph of enough words to count here.\n\nOther.\n"


def test_apply_removals_refuses_what_cannot_be_replayed():
    with pytest.raises(ValueError, match="cut_start"):
        apply_removals("abc", [{"doc_id": "a", "index": 0, "similarity": 1.0}])
    with pytest.raises(ValueError, match="overlaps"):
        apply_removals("abcdef", [(0, 3), (2, 4)])
    with pytest.raises(ValueError, match="outside"):
        apply_removals("abc", [(1, 9)])


def test_cli_report_replays_every_record(tmp_path, debian_docs):
    docs = debian_docs[:300]
    corpus = tmp_path / "in.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    out, report = tmp_path / "out.jsonl", tmp_path / "removed.jsonl"
    subprocess.run([sys.executable, "-m", "dedup", str(corpus), "-o", str(out), "--id-field", "doc_id",
                    "--report", str(report), "-q"], check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    lines = list(read_report(str(report)))
    assert len(lines) > 50
    by_doc: dict = {}
    for line in lines:
        by_doc.setdefault(line["doc_id"], []).append(line)
    outputs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(outputs) == len(docs)
    for doc, output in zip(docs, outputs):
        assert apply_removals(doc["text"], by_doc.get(doc["doc_id"], [])) == output["text"]
