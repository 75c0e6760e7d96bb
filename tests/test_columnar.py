"""dedupe_arrow: the same decisions as Deduplicator, as an Arrow column and a removals table."""

from __future__ import annotations

import pytest

import dedup
from dedup.columnar import REMOVAL_COLUMNS

pa = pytest.importorskip("pyarrow")

A = "The quick brown fox jumps over the lazy dog by the river bank today."
B = "Permission is hereby granted free of charge to any person obtaining a copy."
C = "Redistribution and use in source and binary forms are permitted, with or without changes."
TEXTS = [f"{A}\n\n{B}", f"{C}\n\n{A}", f"{B}\n\n{B}", "nothing repeated here at all, a single line", f"{C}"]


def _expected(texts, ids=None):
    results = dedup.Deduplicator().dedupe_many(texts, ids)
    rows = [(i, res.doc_id, *r) for i, res in enumerate(results) for r in res.removed]
    return [r.text for r in results], rows


def test_same_text_and_removals_as_the_deduplicator():
    cleaned, removals = dedup.dedupe_arrow(pa.array(TEXTS))
    texts, rows = _expected(TEXTS)
    assert cleaned.to_pylist() == texts
    assert removals.column_names == list(REMOVAL_COLUMNS)
    assert [tuple(r.values()) for r in removals.to_pylist()] == rows
    assert len(rows) == 4 and cleaned.to_pylist()[1] == C


def test_ids_name_the_matched_documents():
    ids = ["a", "b", "c", "d", "e"]
    _, removals = dedup.dedupe_arrow(pa.array(TEXTS), ids=pa.array(ids))
    assert removals.column("matched_doc_id").to_pylist() == [row[5] for row in _expected(TEXTS, ids)[1]]
    assert set(removals.column("matched_doc_id").to_pylist()) <= set(ids)


def test_removals_name_their_document_by_its_id():
    ids = ["a", "b", "c", "d", "e"]
    _, removals = dedup.dedupe_arrow(pa.array(TEXTS), ids=ids)
    assert removals.column_names[:2] == ["row", "doc_id"]
    assert removals.column("doc_id").to_pylist() == [ids[row] for row in removals.column("row").to_pylist()]
    _, numbered = dedup.dedupe_arrow(pa.array(TEXTS), ids=[10, 11, 12, 13, 14])
    assert numbered.column("doc_id").type == pa.int64()
    assert numbered.column("doc_id").to_pylist() == [10 + row for row in numbered.column("row").to_pylist()]


def test_chunked_large_strings_and_nulls():
    column = pa.chunked_array([pa.array(TEXTS[:2], pa.large_string()), pa.array([None] + TEXTS[2:], pa.large_string())])
    cleaned, removals = dedup.dedupe_arrow(column)
    texts, rows = _expected(TEXTS)
    assert cleaned.type == pa.large_string()
    assert cleaned.to_pylist() == texts[:2] + [None] + texts[2:]
    shifted = [(r[0] + (r[0] >= 2),) + r[1:] for r in rows]  # the null row takes position 2 (numbers do not count it)
    assert [tuple(r.values()) for r in removals.to_pylist()] == shifted


def test_continuing_a_deduplicator_across_columns():
    d = dedup.Deduplicator()
    first, _ = dedup.dedupe_arrow(pa.array(TEXTS[:2]), deduplicator=d)
    second, removals = dedup.dedupe_arrow(pa.array(TEXTS[2:]), deduplicator=d)
    assert first.to_pylist() + second.to_pylist() == _expected(TEXTS)[0]
    assert d.stats.documents == len(TEXTS)
    assert removals.column("row").to_pylist() == [0, 0, 2]


def test_bad_columns_are_one_line_errors():
    with pytest.raises(dedup.InputTypeError, match="must hold strings, got int64"):
        dedup.dedupe_arrow(pa.array([1, 2]))
    with pytest.raises(dedup.ConfigError, match="1 ids for 2 rows"):
        dedup.dedupe_arrow(pa.array(["a", "b"]), ids=["x"])
    with pytest.raises(dedup.ConfigError, match="either deduplicator= or settings"):
        dedup.dedupe_arrow(pa.array(["a"]), deduplicator=dedup.Deduplicator(), threshold=0.9)


def test_no_removals_gives_an_empty_table_with_the_columns():
    cleaned, removals = dedup.dedupe_arrow(pa.array(["one line", "another line"]))
    assert cleaned.to_pylist() == ["one line", "another line"]
    assert removals.num_rows == 0 and removals.column_names == list(REMOVAL_COLUMNS)
