"""What a run returns behaves like the plain values it stands for."""

import json
import pickle

import numpy as np
import pytest

import dedup
from dedup.results import Removal, Spans


def test_removal_is_immutable_with_named_fields_and_a_dict():
    r = dedup.explain("one two three four five six seven eight\n\none two three four five six seven eight\n")
    (rem,) = r.removed
    assert isinstance(rem, Removal) and rem.reason == "exact" and rem.similarity == 1.0
    with pytest.raises(AttributeError):
        rem.start = 0  # type: ignore[misc]
    d = rem.to_dict()
    assert list(d) == ["index", "start", "end", "matched_doc_id", "matched_index", "matched_start", "matched_end",
                       "similarity", "reason"]
    assert json.loads(json.dumps(d)) == d
    assert Removal(**d) == rem and pickle.loads(pickle.dumps(rem)) == rem


def test_paragraph_spans_act_as_a_list_of_pairs():
    r = dedup.explain("alpha\n\nbeta gamma\n\ndelta")
    spans = r.paragraphs
    assert isinstance(spans, Spans)
    assert spans == [(0, 5), (7, 17), (19, 24)] and spans == ((0, 5), (7, 17), (19, 24))
    assert len(spans) == 3 and spans[1] == (7, 17) and spans[-1] == (19, 24) and spans[1:] == [(7, 17), (19, 24)]
    assert list(spans) == [(0, 5), (7, 17), (19, 24)] and repr(spans) == "[(0, 5), (7, 17), (19, 24)]"
    assert all(type(x) is int for pair in spans for x in pair)
    assert spans != [(0, 5)] and (spans == "x") is False
    with pytest.raises(IndexError):
        spans[3]
    assert pickle.loads(pickle.dumps(r)) == r
    assert Spans(np.zeros(0, np.int64), np.zeros(0, np.int64)) == []
