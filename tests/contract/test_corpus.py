"""Corpus scope: repeats across documents, the index, replays, and quality on real data."""

import pytest

import dedup

P1 = "The quick brown fox jumps over the lazy dog near the quiet river bank today."
P2 = "A completely different paragraph talks about weather, markets and the long winter ahead."
P3 = "Third paragraph: the committee will meet again next week to discuss the final budget numbers."


def test_second_document_loses_what_the_first_had():
    d = dedup.Deduplicator(threshold=0.8, scope="corpus")
    r1 = d.dedupe(f"{P1}\n\n{P2}\n", doc_id="a")
    r2 = d.dedupe(f"{P3}\n\n{P1}\n", doc_id="b")
    assert r1.text == f"{P1}\n\n{P2}\n" and not r1.removed
    assert r2.text == f"{P3}\n"
    (rem,) = r2.removed
    assert (rem.matched_doc_id, rem.matched_index, rem.matched_start, rem.matched_end) == ("a", 0, 0, len(P1))
    assert d.stats.documents == 2 and d.stats.removed == 1 and d.stats.paragraphs == 4
    assert d.stats.bytes_in - d.stats.bytes_out == len(f"\n\n{P1}".encode())


def test_document_scope_forgets_between_documents():
    d = dedup.Deduplicator(scope="document")
    d.dedupe(P1, doc_id="a")
    assert d.dedupe(P1, doc_id="b").text == P1


def test_deduplicator_defaults_to_corpus_scope_and_explain_to_document():
    assert dedup.Deduplicator().config.scope == "corpus"
    assert dedup.Deduplicator(dedup.DedupConfig()).config.scope == "corpus"  # wherever the settings come from
    assert dedup.Deduplicator(dedup.DedupConfig(scope="document")).config.scope == "document"


def test_chained_near_duplicates_count_even_when_removed():
    words = [f"w{i}" for i in range(80)]
    base = " ".join(words)
    v1 = " ".join(words[:40] + ["x40"] + words[41:])  # J(base, v1) = 71/81
    v2 = " ".join(words[:10] + ["x10"] + words[11:40] + ["x40"] + words[41:])  # J(v1, v2) = 71/81, J(base, v2) = 66/86
    d = dedup.Deduplicator()
    rs = d.dedupe_many([base, v1, v2], ["a", "b", "c"])
    assert rs[1].removed[0].matched_doc_id == "a"
    # v2 is not a near-duplicate of the kept paragraph, only of the removed v1: still a repeat
    assert rs[2].removed[0].matched_doc_id == "b"
    assert rs[2].removed[0].similarity == round(71 / 81, 6)


def test_feeding_the_same_documents_again_gives_the_same_decisions():
    docs = [f"{P1}\n\n{P2}\n", f"{P2}\n\n{P3}\n", f"{P3}\n\n{P1}\n\n{P1}\n"]
    ids = ["a", "b", "c"]
    d = dedup.Deduplicator()
    first = [(r.text, r.removed) for r in d.dedupe_many(docs, ids)]
    size = len(d.index)
    again = [(r.text, r.removed) for r in d.dedupe_many(docs, ids)]
    assert again == first
    assert len(d.index) == size  # replays are not indexed twice
    assert first[0][1] == []  # a paragraph never counts as a repeat of itself


def test_index_is_bound_to_its_settings():
    index = dedup.MemoryIndex()
    dedup.Deduplicator(index=index).dedupe(P1)
    with pytest.raises(dedup.IndexMismatchError, match="threshold"):
        dedup.Deduplicator(index=index, threshold=0.9)


def _score(docs, results):
    from benchmarks.quality import score  # the scorer shipped for everyone (same rule as shared/tools/score.py)

    got = score(docs, ([(x.start, x.end) for x in r.removed] for r in results))
    return got["precision"], got["recall"]


@pytest.mark.parametrize("fixture", ["debian_docs", "kjv_docs"])
def test_quality_bar_on_real_corpora(fixture, request):
    """The labels are word 5-gram Jaccard >= 0.8 alone: ``preset="strict"`` is held to them; the
    defaults find every labelled repeat, and remove a few units more, each one a rule of theirs
    recomputed exactly in tests/test_golden_changes.py (Debian: 35, KJV: 1)."""
    docs = request.getfixturevalue(fixture)
    texts, ids = [d["text"] for d in docs], [d["doc_id"] for d in docs]
    precision, recall = _score(docs, dedup.Deduplicator(preset="strict").dedupe_many(texts, ids))
    assert precision >= 0.999 and recall >= 0.995, (precision, recall)
    precision, recall = _score(docs, dedup.Deduplicator().dedupe_many(texts, ids))
    assert precision >= 0.98 and recall >= 0.995, (precision, recall)


def test_same_decisions_for_any_batch_size_on_real_data(debian_docs):
    docs = debian_docs[:150]
    texts, ids = [d["text"] for d in docs], [d["doc_id"] for d in docs]
    ref = [(r.text, r.removed) for r in dedup.Deduplicator().dedupe_many(texts, ids)]
    for batch in (1, 37, 500):
        got = [(r.text, r.removed) for r in dedup.Deduplicator(batch_paragraphs=batch).dedupe_many(texts, ids)]
        assert got == ref, batch
    one_by_one = dedup.Deduplicator()
    assert [(r.text, r.removed) for r in (one_by_one.dedupe(t, doc_id=i) for t, i in zip(texts, ids))] == ref


def test_popular_boilerplate_stays_cheap(monkeypatch):
    """Counted work, not time: the candidate pairs stay within the bucket cap per paragraph
    (counted on the batch path, a sorted-run index: the compiled engine's cap is the same rule)."""
    from dedup.engine import batch as core
    from dedup.index.sorted_memory import SortedMemoryIndex

    pairs = []
    real = core.candidate_pairs

    def counting(*args, **kwargs):
        found = real(*args, **kwargs)
        pairs.append(len(found[0]))
        return found

    monkeypatch.setattr(core, "candidate_pairs", counting)
    boiler = "This file is part of the project and is distributed under the terms of the licence, see COPYING."
    docs = [f"Document {i} has its own first paragraph with unique words {i} {i * 7} {i * 13}.\n\n{boiler}\n"
            for i in range(20_000)]
    results = dedup.Deduplicator(index=SortedMemoryIndex()).dedupe_many(docs)
    assert sum(len(r.removed) for r in results) == len(docs) - 1
    cfg = dedup.DedupConfig()
    assert pairs and sum(pairs) <= 2 * len(docs) * cfg.layout.bands * cfg.max_bucket_candidates


def test_documents_without_ids_are_never_taken_for_replays():
    index = dedup.MemoryIndex()
    dedup.Deduplicator(index=index).dedupe(f"{P1}\n\n{P2}\n")  # auto id 0
    again = dedup.Deduplicator(index=index).dedupe(f"{P1}\n\n{P2}\n")  # auto id 0 again: a new document
    assert again.text == "" and len(again.removed) == 2


def test_repeated_doc_ids_give_the_same_decisions_for_any_batch_size():
    docs = [f"{P1}\n\n{P2}\n", f"{P1}\n\n{P2}\n", f"{P2}\n\n{P3}\n"]
    ids = ["a", "a", "b"]
    got = {b: [len(r.removed) for r in dedup.Deduplicator(batch_paragraphs=b).dedupe_many(docs, ids)]
           for b in (1, 3, 100)}
    assert got[1] == got[3] == got[100] == [0, 0, 1]  # the second "a" replays the first
