"""granularity="document" and "line": whole documents, and one unit per line."""

from __future__ import annotations

import gzip
import json

import pytest

import dedup
from helpers import shared_data


def _kjv(doc_id: str) -> str:
    with gzip.open(shared_data("docs_kjv_chapters.jsonl.gz"), "rt") as f:
        for line in f:
            row = json.loads(line)
            if row["doc_id"] == doc_id:
                return row["text"]
    raise LookupError(doc_id)


def _jaccard(a: str, b: str, n: int = 5) -> float:
    from dedup.text.split import tokenize
    sets = []
    for text in (a, b):
        tokens = tokenize(text)
        sets.append({tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)})
    return len(sets[0] & sets[1]) / len(sets[0] | sets[1])


def _edit_every_third_verse(text: str) -> str:
    verses = text.split("\n\n")
    for i in range(0, len(verses), 3):
        words = verses[i].split(" ")
        words[len(words) // 2] = "thereupon"  # one word edited
        verses[i] = " ".join(words)
    return "\n\n".join(verses)


def test_an_edited_copy_of_a_chapter_goes_whole_in_document_mode():
    original = _kjv("kjv/Ge1")
    copy = _edit_every_third_verse(original)
    sim = _jaccard(original, copy)
    assert 0.8 <= sim < 0.95  # a near copy: datatrove or NeMo Curator at 0.8 would drop it
    d = dedup.Deduplicator(granularity="document")
    assert d.dedupe(original, "a").text == original
    result = d.dedupe(copy, "b")
    assert result.text == "" and result.removed[0].reason == "near"
    assert result.removed[0].similarity == pytest.approx(sim)
    # paragraph mode keeps a fragment: the verses that were edited
    p = dedup.Deduplicator()
    p.dedupe(original, "a")
    fragment = p.dedupe(copy, "b").text
    kept = [v for v in fragment.split("\n\n") if v]
    assert 0 < len(kept) < len(original.split("\n\n"))
    # the pipeline: documents first, then paragraphs of what is left
    records = [{"id": "a", "text": original}, {"id": "b", "text": copy}]
    docs_first = (r.record for r in dedup.dedupe_stream(records, id_field="id", granularity="document"))
    out = [r.record["text"] for r in dedup.dedupe_stream(docs_first, id_field="id")]
    assert out == [original, ""]


def test_document_mode_keeps_documents_byte_for_byte_and_ignores_surrounding_space():
    a = "First paragraph with words enough to count.\n\nSecond paragraph with words enough too.\n"
    d = dedup.Deduplicator(granularity="document")
    assert d.dedupe(a, 1).text == a
    assert d.dedupe("\n  " + a.rstrip() + "  \n\n", 2).text == ""  # the same document, other white space
    assert d.dedupe("   \n", 3).text == "   \n"  # a blank document has no unit
    other = "Another document entirely, about something else, with its own words."
    assert d.dedupe(other, 4).text == other


def test_line_mode_makes_every_line_a_unit_whatever_the_blank_lines_say():
    text = ("A line long enough to be a unit on its own here.\nAnother line, also long enough to be a unit.\n\n"
            "A line long enough to be a unit on its own here.\nThe last line stays as it is, long enough.\n")
    assert dedup.dedupe_text(text) == text  # paragraphs: the two blocks differ
    assert dedup.dedupe_text(text, granularity="line") == (
        "A line long enough to be a unit on its own here.\nAnother line, also long enough to be a unit.\n\n"
        "The last line stays as it is, long enough.\n")
    spans = dedup.explain(text, granularity="line").paragraphs
    assert len(spans) == 4


@pytest.mark.parametrize("granularity", ["line", "document"])
def test_modes_are_deterministic_across_batch_sizes_and_the_cli(granularity, tmp_path):
    with gzip.open(shared_data("docs_kjv_chapters.jsonl.gz"), "rt") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(150), f)]
    texts += [_edit_every_third_verse(t) for t in texts[:40]]
    outs = []
    for batch in (64, 8192):
        d = dedup.Deduplicator(granularity=granularity, batch_paragraphs=batch)
        outs.append([r.text for r in d.iter_dedupe(texts)])
    assert outs[0] == outs[1]
    if granularity == "document":  # an edited copy goes exactly when its Jaccard reaches the threshold
        near = [_jaccard(texts[i], texts[150 + i]) >= 0.8 for i in range(40)]
        assert [out == "" for out in outs[0][150:]] == near and 0 < sum(near) < 40
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    from dedup.cli import main
    keep = ["--keep-empty"] if granularity == "document" else []  # the CLI leaves removed documents out
    assert main([str(src), "-o", str(tmp_path / "out.jsonl"), "--granularity", granularity, "-q", *keep]) == 0
    assert [json.loads(x)["text"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == outs[0]
    if granularity == "document":
        assert main([str(src), "-o", str(tmp_path / "out.jsonl"), "--granularity", granularity, "-q"]) == 0
        assert [json.loads(x)["text"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == \
            [t for t in outs[0] if t]
