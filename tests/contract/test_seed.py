"""The founding example: a news article pasted twice comes back once, byte for byte."""

import dedup


def test_seed_article_comes_back_once(seed_text):
    first_line = seed_text.split("\n")[0]
    out = dedup.dedupe_text(seed_text)
    # the input has no final newline, so neither has the output
    assert out == first_line


def test_seed_explain_names_the_first_copy(seed_text):
    r = dedup.explain(seed_text)
    assert len(r.removed) == 1
    rem = r.removed[0]
    assert (rem.index, rem.matched_index) == (1, 0)
    assert seed_text[rem.start:rem.end] == seed_text[rem.matched_start:rem.matched_end]
    assert rem.similarity == 1.0 and rem.reason == "exact"
    assert r.paragraphs == [(0, rem.matched_end), (rem.start, rem.end)]


def test_seed_is_idempotent(seed_text):
    once = dedup.dedupe_text(seed_text)
    assert dedup.dedupe_text(once) == once
