"""Exact substrings (``exact_substrings=N``): runs of >= N tokens repeating earlier text are cut.

The reference is brute force over the same token sequences: a token goes exactly when some
window of N tokens holding it occurred earlier (an earlier document, or earlier in its own).
"""

from __future__ import annotations

import gzip
import json
import os
import random
from typing import List, Set

import numpy as np
import pytest

import dedup
from helpers import shared_data
from dedup.accel import spankernels
from dedup.accel.native import use_native
from dedup.decide.amend import unit_arrays
from dedup.decide.span_store import PyFpTable, fingerprint_table
from dedup.decide.substrings import cover, gram_layout
from dedup.fingerprint.grams import token_spans, winnow
from dedup.text.assemble import is_cut
from dedup.text.settings import TextSettings

SETTINGS = TextSettings()


def planted_corpus(seed: int, docs: int = 60, spans: int = 40):
    """Random text with spans of 15-200 tokens planted at random places, some several times."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20000)]
    pool = [" ".join(rng.choice(vocab) for _ in range(rng.randint(15, 200))) for _ in range(spans)]
    out, planted = [], []
    for _ in range(docs):
        paragraphs = []
        for _ in range(rng.randint(1, 5)):
            parts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(5, 80)))]
            for _ in range(rng.randint(0, 2)):
                k = rng.randrange(len(pool))
                planted.append(k)
                parts += [pool[k], " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30)))]
            paragraphs.append(" ".join(p for p in parts if p) + ".")
        out.append("\n\n".join(paragraphs))
    return out, pool


def kept_tokens(text: str, result: dedup.DedupResult):
    """(word hashes, token indexes) of what the unit decisions kept (substring cuts not applied)."""
    words, starts, ends = token_spans(text, SETTINGS)
    units = unit_arrays(result)
    unit = np.searchsorted(units.starts, starts, side="right") - 1
    keep = np.ones(len(words), dtype=bool)
    for r in result.removed:
        if r.reason == "substring":
            continue
        if is_cut(r, units[r.index]):
            keep &= ~((starts >= r.start) & (ends <= r.end))
        else:
            keep &= unit != r.index
    kept = np.flatnonzero(keep)
    return words[kept], kept


def brute_force(texts, results, n: int) -> List[Set[int]]:
    """Per document, the token indexes a window of n tokens that occurred earlier covers."""
    seen: Set[tuple] = set()
    out = []
    for text, result in zip(texts, results):
        seq, kept = kept_tokens(text, result)
        seq = seq.tolist()
        covered = np.zeros(len(seq), dtype=bool)
        for i in range(len(seq) - n + 1):
            gram = tuple(seq[i:i + n])
            if gram in seen:
                covered[i:i + n] = True
            seen.add(gram)
        out.append(set(kept[covered].tolist()))
    return out


def cut_tokens(text: str, result: dedup.DedupResult) -> Set[int]:
    _, starts, ends = token_spans(text, SETTINGS)
    out: Set[int] = set()
    for r in result.removed:
        if r.reason == "substring":
            out |= set(np.flatnonzero((starts >= r.start) & (ends <= r.end)).tolist())
    return out


def replays(text: str, result: dedup.DedupResult) -> bool:
    cuts = dedup.removal_cuts(text, result.paragraphs, result.removed)
    return dedup.apply_removals(text, cuts) == result.text


@pytest.mark.parametrize("n", [20, 50])
def test_every_repeat_of_n_tokens_is_cut_and_nothing_else(n):
    texts, pool = planted_corpus(1)
    results = dedup.Deduplicator(exact_substrings=n).dedupe_many(texts)
    expected = brute_force(texts, results, n)
    assert [cut_tokens(t, r) for t, r in zip(texts, results)] == expected
    assert sum(map(len, expected)) > 5000
    assert all(replays(t, r) for t, r in zip(texts, results))
    # the planted spans: every later copy of one of >= n tokens went whole; the first copies stayed
    out = "\n".join(r.text for r in results)
    for span in pool:
        count = sum(t.count(span) for t in texts)
        if count and len(span.split()) >= n:
            assert out.count(span) == 1, span[:40]
        elif count and len(span.split()) < n - 2:  # a shorter one stays (unless its neighbours happen to repeat too)
            assert out.count(span) == count, span[:40]


def test_cuts_land_on_token_boundaries():
    texts, _ = planted_corpus(2)
    for text, result in zip(texts, dedup.Deduplicator(exact_substrings=20).dedupe_many(texts)):
        for r in result.removed:
            if r.reason == "substring":
                assert r.start == 0 or not (text[r.start - 1].isalnum() and text[r.start].isalnum())
                assert r.end == len(text) or not (text[r.end - 1].isalnum() and text[r.end].isalnum())
                assert r.similarity == 1.0


def test_the_report_names_where_the_cut_text_occurred():
    texts, _ = planted_corpus(3, docs=30)
    ids = [f"doc-{i}" for i in range(len(texts))]
    by_id = dict(zip(ids, texts))
    for result in dedup.Deduplicator(exact_substrings=30).dedupe_many(texts, ids):
        for r in result.removed:
            if r.reason == "substring":
                source = by_id[r.matched_doc_id]
                here = by_id[result.doc_id][r.start:r.end].split()
                earlier = source[r.matched_start:r.matched_end].split()
                assert len(earlier) >= 1 and earlier[0].strip(".") == here[0].strip(".()")
                assert ids.index(r.matched_doc_id) <= ids.index(result.doc_id)


def test_same_cuts_on_every_batch_size_worker_count_and_path():
    texts, _ = planted_corpus(4, docs=40)
    want = dedup.Deduplicator(exact_substrings=20).dedupe_many(texts)
    assert dedup.Deduplicator(exact_substrings=20, batch_paragraphs=3).dedupe_many(texts) == want
    assert dedup.Deduplicator(exact_substrings=20, workers=2).dedupe_many(texts) == want
    assert [dedup.Deduplicator(exact_substrings=20).dedupe(t) for t in texts[:1]] == want[:1]
    with use_native(False), spankernels.use_compiled(False):
        assert dedup.Deduplicator(exact_substrings=20).dedupe_many(texts) == want


def test_compiled_table_and_numpy_table_find_the_same_runs(tmp_path):
    if spankernels.module() is None:
        pytest.skip("dedup.accel._spans is not built")
    rng = np.random.default_rng(7)
    for vocab in (2, 4, 100000):  # a small vocabulary fills the cap of 64 places per fingerprint
        docs = [rng.integers(1, vocab + 1, size=int(rng.integers(0, 400))).astype(np.uint64) for _ in range(30)]
        outs = []
        for table in (fingerprint_table(), PyFpTable()):
            path = tmp_path / f"tokens-{vocab}-{type(table).__name__}"
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND)
            starts, total, found = [0], 0, []
            try:
                for words in docs:
                    fps, selected = winnow(words, 4, 5)
                    flushed = total - total // 3  # a third of what is stored not yet in the file
                    pending = np.concatenate(docs)[flushed:total] if total else np.zeros(0, np.uint64)
                    got = table.match(words, fps, selected, total, np.array(starts, np.int64), fd, flushed,
                                      np.ascontiguousarray(pending), 8, True)
                    found.append(sorted(map(tuple, np.frombuffer(got, np.int64).reshape(-1, 3).tolist())))
                    os.write(fd, words.tobytes())
                    total += len(words)
                    starts.append(total)
            finally:
                os.close(fd)
            outs.append(found)
        assert outs[0] == outs[1]
        assert (sum(map(len, outs[0])) > 0) == (vocab < 10)


def test_winnowing_selects_a_kgram_in_every_window():
    words = np.random.default_rng(1).integers(0, 5, size=500).astype(np.uint64)
    for n in (5, 20, 50):
        k, w = gram_layout(n)
        fps, selected = winnow(words, k, w)
        with spankernels.use_compiled(False):
            assert all(np.array_equal(a, b) for a, b in zip((fps, selected), winnow(words, k, w)))
        gaps = np.diff(np.concatenate(([-1], selected, [len(fps)])))
        assert gaps.max() <= w and k + w - 1 == n


def test_cover_joins_overlapping_and_adjacent_runs():
    found = np.array([[0, 10, 100], [5, 10, 200], [15, 5, 300], [30, 5, 400]], dtype=np.int64)
    assert cover(found).tolist() == [[0, 10, 100], [10, 15, 205], [15, 20, 300], [30, 35, 400]]


def test_a_unit_the_cut_covers_goes_with_its_separator():
    rng = random.Random(5)
    span = " ".join(f"x{rng.randrange(10**6)}" for _ in range(30))
    first = f"Opening words here, then more of them, and more again. {span} closing words there, and others."
    second = f"Intro paragraph of its own.\n\n{span}.\n\nAnd the end, different."
    # (the shortened-copy rule would take the unit first: off here, the cut is what is tested)
    r = dedup.Deduplicator(exact_substrings=20, containment=None).dedupe_many([first, second])[1]
    assert r.text == "Intro paragraph of its own.\n\nAnd the end, different."
    assert [(x.index, x.reason) for x in r.removed] == [(1, "substring")] and replays(second, r)
    # a run through two paragraphs: one cut in each, the paragraph break kept
    words = span.split()
    third = f"Head text {' '.join(words[:12])}\n\n{' '.join(words[12:])} tail text"
    r = dedup.Deduplicator(exact_substrings=20).dedupe_many([first, third])[1]
    assert r.text == "Head text\n\ntail text" and len(r.removed) == 2 and replays(third, r)


def test_document_scope_cuts_repeats_inside_each_document_only():
    rng = random.Random(6)
    span = " ".join(f"y{rng.randrange(10**6)}" for _ in range(40))
    tail = "and more words that make this paragraph quite different from the first one, as it should be"
    text = f"{span}\n\nSomething else in between.\n\nAgain: {span} {tail}"
    r = dedup.explain(text, exact_substrings=30, inner_repeats=False)
    assert r.text == f"{span}\n\nSomething else in between.\n\nAgain: {tail}"
    assert dedup.dedupe_text(text, exact_substrings=30) == dedup.dedupe_text(dedup.dedupe_text(text, exact_substrings=30),
                                                                             exact_substrings=30)
    d = dedup.Deduplicator(exact_substrings=30, scope="document")
    assert [x.text for x in d.dedupe_many([span, span])] == [span, span]


def test_a_persistent_index_keeps_the_spans_between_runs(tmp_path):
    texts, _ = planted_corpus(8, docs=50)
    ids = [f"d{i}" for i in range(len(texts))]
    whole = dedup.Deduplicator(exact_substrings=30).dedupe_many(texts, ids)
    path = str(tmp_path / "seen.dedup")
    d = dedup.Deduplicator(index=path, exact_substrings=30)
    first = d.dedupe_many(texts[:25], ids[:25])
    d.index.close()
    d = dedup.Deduplicator(index=path, exact_substrings=30)
    assert first + d.dedupe_many(texts[25:], ids[25:]) == whole
    assert d.dedupe_many(texts[10:30], ids[10:30]) == whole[10:30]  # given again: the decisions of their first run
    d.index.close()
    with pytest.raises(dedup.IndexMismatchError, match="exact_substrings"):
        dedup.Deduplicator(index=path, exact_substrings=20)
    os.rename(path + ".spans", path + ".moved")
    with pytest.raises(dedup.DedupError, match="span store of this index is missing"):
        dedup.Deduplicator(index=path, exact_substrings=30)


def test_bad_settings_are_refused():
    with pytest.raises(dedup.ConfigError, match="exact_substrings"):
        dedup.DedupConfig(exact_substrings=1)
    with pytest.raises(dedup.ConfigError, match="keep their place in the text"):
        dedup.DedupConfig(exact_substrings=50, normalization="nfkc_casefold+digits")
    with pytest.raises(dedup.ConfigError, match="read_only"):
        dedup.Deduplicator(exact_substrings=50, read_only=True)


def test_stats_count_the_cut_text():
    texts, _ = planted_corpus(9, docs=20)
    d = dedup.Deduplicator(exact_substrings=20)
    results = d.dedupe_many(texts)
    assert d.stats.bytes_out == sum(len(r.text.encode()) for r in results)
    assert d.stats.removed == sum(len(r.removed) for r in results)
    assert d.stats.documents_changed == sum(bool(r.removed) for r in results)


def test_on_real_licence_text_the_cuts_equal_brute_force():
    with gzip.open(shared_data("docs_debian_copyright.jsonl.gz"), "rt") as f:
        texts = [json.loads(line)["text"] for _, line in zip(range(120), f)]
    results = dedup.Deduplicator(exact_substrings=50).dedupe_many(texts)
    expected = brute_force(texts, results, 50)
    got = [cut_tokens(t, r) for t, r in zip(texts, results)]
    assert sum(map(len, got)) > 10000
    # places past the 64 kept per fingerprint may hide a run (on all 390 files: 70 of 65,781 tokens); none here
    assert got == expected
    assert all(replays(t, r) for t, r in zip(texts, results))


def test_compiled_and_numpy_batches_find_the_same_runs(tmp_path):
    if spankernels.module() is None:
        pytest.skip("dedup.accel._spans is not built")
    from dedup.decide.span_store import SpanStore
    rng = np.random.default_rng(3)
    docs = [rng.integers(1, 6, size=int(rng.integers(0, 300))).astype(np.uint64) for _ in range(40)]
    outs = []
    for compiled in (True, False):
        with spankernels.use_compiled(compiled):
            store = SpanStore({"test": 1}, str(tmp_path / f"store-{compiled}"), temporary=True)
            found = []
            for batch in (docs[:13], docs[13:14], docs[14:]):
                offsets = np.concatenate(([0], np.cumsum([len(d) for d in batch]))).astype(np.int64)
                words = np.concatenate(batch)
                spans = np.zeros(len(words), np.int64)
                numbers = store.add_many([None] * len(batch), [True] * len(batch), words, spans, spans, spans, offsets)
                rows = store.match_batch(words, offsets, numbers, np.ones(len(batch), np.uint8), 4, 5, 8)
                found.append(sorted(map(tuple, rows.tolist())))
                store.flush()
            outs.append(found)
            store.close()
    assert outs[0] == outs[1] and sum(map(len, outs[0])) > 0


def test_spark_refuses_exact_substrings_rather_than_ignore_them():
    from dedup.spark.frame import _config
    with pytest.raises(dedup.ConfigError, match="Spark"):
        _config(None, None, None, {"exact_substrings": 50})
