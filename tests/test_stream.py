"""dedupe_stream: one result per input, in order, lazily; strings and dict records."""

import itertools

import pytest
from hypothesis import given, settings, strategies as st

import dedup
from dedup.stream import pair_results

P1 = "The quick brown fox jumps over the lazy dog near the quiet river bank today."
P2 = "A completely different paragraph talks about weather, markets and the long winter ahead."
P3 = "Third paragraph: the committee will meet again next week to discuss the final budget numbers."


def test_strings_one_result_per_input_in_order():
    texts = [f"{P1}\n\n{P2}\n", f"{P3}\n\n{P1}\n", "", f"{P2}\n"]
    out = list(dedup.dedupe_stream(texts))
    assert [r.position for r in out] == [0, 1, 2, 3]
    assert [r.record for r in out] == [f"{P1}\n\n{P2}\n", f"{P3}\n", "", ""]
    assert [len(r.removed) for r in out] == [0, 1, 0, 1]
    assert all(isinstance(r, dedup.StreamResult) and r.record == r.text for r in out)
    assert [r.original_text for r in out] == texts
    assert out[1].removed_text(out[1].removed[0]) == P1


def test_results_equal_the_deduplicator_on_real_documents(debian_docs):
    docs = debian_docs[:120]
    expected = dedup.Deduplicator().dedupe_many([d["text"] for d in docs], [d["doc_id"] for d in docs])
    got = list(dedup.dedupe_stream(docs, id_field="doc_id"))
    assert [g.result for g in got] == expected
    assert [g.record["text"] for g in got] == [e.text for e in expected]


def test_dict_records_are_copied_with_only_the_text_replaced():
    meta = {"lang": "en", "tags": ["a", "b"]}
    records = [{"id": "a", "body": f"{P1}\n\n{P1}\n", "meta": meta, "n": 1},
               {"id": "b", "body": P2, "meta": meta, "n": 2}]
    before = [dict(r) for r in records]
    out = list(dedup.dedupe_stream(records, text_field="body", id_field="id"))
    assert records == before  # inputs untouched
    assert out[0].record == {"id": "a", "body": f"{P1}\n", "meta": meta, "n": 1}
    assert list(out[0].record) == ["id", "body", "meta", "n"]  # field order kept
    assert out[0].record["meta"] is meta  # other fields carried, not copied
    assert out[1].record == records[1] and out[1].record is not records[1]
    assert out[0].doc_id == "a" and out[0].removed[0].matched_doc_id == "a"


def test_unpacks_as_a_record_result_pair():
    (record, result), = list(dedup.dedupe_stream([{"text": P1, "x": 1}]))
    assert record == {"text": P1, "x": 1} and isinstance(result, dedup.DedupResult)


def test_mixed_strings_and_records():
    out = list(dedup.dedupe_stream([P1, {"text": P1, "k": "v"}]))
    assert out[0].record == P1 and out[1].record == {"text": "", "k": "v"}


def test_id_field_names_the_documents_in_removals():
    records = [{"url": "u1", "text": P1}, {"url": "u2", "text": f"{P2}\n\n{P1}"}]
    out = list(dedup.dedupe_stream(records, id_field="url"))
    (rem,) = out[1].removed
    assert (out[1].doc_id, rem.matched_doc_id, rem.matched_index) == ("u2", "u1", 0)


def test_default_scope_is_corpus_and_document_scope_is_available():
    texts = [P1, P1]
    assert [r.text for r in dedup.dedupe_stream(texts)] == [P1, ""]
    assert [r.text for r in dedup.dedupe_stream(texts, scope="document")] == [P1, P1]
    # a config keeps the scope it names; one that names none is corpus scope here too
    assert [r.text for r in dedup.dedupe_stream(texts, config=dedup.DedupConfig())] == [P1, ""]
    assert [r.text for r in dedup.dedupe_stream(texts, config=dedup.DedupConfig(scope="document"))] == [P1, P1]
    assert [r.text for r in dedup.dedupe_stream(texts, config=dedup.DedupConfig(scope="corpus"))] == [P1, ""]


def test_a_deduplicator_carries_state_across_calls():
    d = dedup.Deduplicator()
    assert [r.text for r in dedup.dedupe_stream([P1], deduplicator=d)] == [P1]
    assert [r.text for r in dedup.dedupe_stream([f"{P2}\n\n{P1}"], deduplicator=d)] == [P2]
    assert d.stats.documents == 2 and d.stats.removed == 1


def test_deduplicator_excludes_other_settings():
    with pytest.raises(dedup.ConfigError, match="deduplicator"):
        list(dedup.dedupe_stream([P1], deduplicator=dedup.Deduplicator(), threshold=0.9))


def test_index_is_used():
    index = dedup.MemoryIndex()
    list(dedup.dedupe_stream([f"{P1}\n\n{P2}"], index=index))
    assert len(index) == 2


def test_lazy_and_bounded_by_the_batch():
    """An endless source works: results come out after one batch, not at the end."""
    pulled = []

    def endless():
        for i in itertools.count():
            pulled.append(i)
            yield f"Document number {i} has a paragraph of its own with enough words.\n\n{P1}"

    first = list(itertools.islice(dedup.dedupe_stream(endless(), batch_paragraphs=10), 3))
    assert [len(r.removed) for r in first] == [0, 1, 1]
    from dedup.engine.batch import _READ_AHEAD

    # one batch of 10 paragraphs = 5 documents, plus the splitter's read-ahead at most
    assert len(pulled) <= 5 + _READ_AHEAD


def test_empty_records_do_not_pile_up():
    """Documents without paragraphs close a batch too (at batch_paragraphs documents)."""
    pulled = []

    def endless_empty():
        for i in itertools.count():
            pulled.append(i)
            yield ""

    first = list(itertools.islice(dedup.dedupe_stream(endless_empty(), batch_paragraphs=10), 3))
    assert [r.text for r in first] == ["", "", ""] and len(pulled) <= 11


def test_pair_results_keeps_items_aligned_across_batches():
    d = dedup.Deduplicator(batch_paragraphs=3)
    items = [(f"id{i}", f"{P1 if i % 2 else P2}\n\nUnique paragraph number {i} with some more words here.")
             for i in range(25)]
    got = list(pair_results(d, items, lambda it, _: it[1], lambda it, _: it[0]))
    assert [item for item, _ in got] == items
    assert [r.doc_id for _, r in got] == [i for i, _ in items]


@pytest.mark.parametrize("batch", [1, 7, 100, 8192])
def test_batch_size_never_changes_results(kjv_docs, batch):
    docs = kjv_docs[:150]
    ref = [r.result for r in dedup.dedupe_stream(docs, id_field="doc_id")]
    got = [r.result for r in dedup.dedupe_stream(docs, id_field="doc_id", batch_paragraphs=batch)]
    assert got == ref


@pytest.mark.parametrize("bad, kind", [(b"x", "bytes"), (3, "int"), (["x"], "list")])
def test_non_string_text_names_position_and_field(bad, kind):
    records = [{"text": P1}, {"text": P2}, {"text": bad}]
    with pytest.raises(TypeError, match=rf"record 2: field 'text' must be str, got {kind}") as info:
        list(dedup.dedupe_stream(records))
    assert isinstance(info.value, dedup.InputTypeError)


def test_missing_field_names_position_and_fields():
    with pytest.raises(ValueError, match=r"record 1: no field 'body' \(fields: 'text'\)") as info:
        list(dedup.dedupe_stream([{"body": P1}, {"text": P2}], text_field="body"))
    assert isinstance(info.value, dedup.RecordError)
    assert (info.value.position, info.value.field) == (1, "body")


def test_missing_or_unhashable_id_field():
    with pytest.raises(dedup.RecordError, match=r"record 0: no id field 'id'"):
        list(dedup.dedupe_stream([{"text": P1}], id_field="id"))
    with pytest.raises(dedup.RecordError, match=r"record 0: id field 'id' must be a string or number, got list"):
        list(dedup.dedupe_stream([{"text": P1, "id": [1]}], id_field="id"))


def test_bytes_and_other_records_get_a_clear_error():
    with pytest.raises(TypeError, match=r"record 0: must be str or a mapping, got bytes: decode it first"):
        list(dedup.dedupe_stream([b"abc"]))
    with pytest.raises(TypeError, match=r"record 1: must be str or a mapping, got int"):
        list(dedup.dedupe_stream(["abc", 5]))


def test_empty_stream():
    assert list(dedup.dedupe_stream([])) == []


WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]
paragraph = st.lists(st.sampled_from(WORDS), min_size=1, max_size=14).map(" ".join)
document = st.lists(paragraph, max_size=5).map("\n\n".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(document, max_size=8), st.integers(1, 12))
def test_stream_equals_dedupe_many(texts, batch):
    expected = dedup.Deduplicator().dedupe_many(texts)
    out = list(dedup.dedupe_stream(texts, batch_paragraphs=batch))
    assert len(out) == len(texts)
    assert [r.text for r in out] == [e.text for e in expected]
    assert [r.result.removed for r in out] == [e.removed for e in expected]


def test_nulls_stay_null_in_their_place_as_in_dedupe_arrow():
    records = [P1, None, float("nan"), f"{P2}\n\n{P1}", None]
    results = list(dedup.dedupe_stream(records))
    assert [r.record for r in results][:2] == [P1, None] and results[2].record != results[2].record  # NaN
    assert [r.text for r in results] == [P1, None, None, P2, None]
    assert [r.position for r in results] == [0, 1, 2, 3, 4]
    assert not results[1].removed and not results[1].result.paragraphs
    assert len(results[3].removed) == 1  # the null between did not break corpus scope
    dicts = list(dedup.dedupe_stream([{"text": None, "id": 1}, {"text": P1, "id": 2}], id_field="id"))
    assert dicts[0].record == {"text": None, "id": 1} and dicts[0].text is None
    assert dicts[1].doc_id == 2


def test_a_pandas_series_with_missing_values():
    pd = pytest.importorskip("pandas")
    for series in (pd.Series([P1, None, P1]), pd.Series([P1, None, P1], dtype="string")):
        out = [r.text for r in dedup.dedupe_stream(series)]
        assert out == [P1, None, ""]


def test_a_long_run_of_nulls_is_bounded_by_the_batch():
    held = []

    def records():
        for i in range(50):
            held.append(i)
            yield None
        yield P1

    stream = dedup.dedupe_stream(records(), batch_paragraphs=4)
    first = next(stream)
    assert first.record is None and len(held) <= 8  # nulls come out before the whole input is read
    assert [r.text for r in stream][-1] == P1
