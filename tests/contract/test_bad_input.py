"""Bad input: clear errors for wrong types; odd text handled with kept text byte-identical."""

import random
import tracemalloc

import pytest

import dedup
from dedup import InputTypeError

PARA = "Every word of this paragraph is here on purpose to make it long enough to count."


@pytest.mark.parametrize("fn", [dedup.dedupe_text, dedup.explain])
def test_bytes_says_decode_first(fn):
    with pytest.raises(TypeError, match=r"decode it first"):
        fn(PARA.encode())


@pytest.mark.parametrize("value, name", [(None, "NoneType"), (3, "int"), (["a"], "list")])
def test_non_str_names_the_type(value, name):
    with pytest.raises(InputTypeError, match=name):
        dedup.dedupe_text(value)
    with pytest.raises(TypeError, match=name):
        dedup.Deduplicator().dedupe(value)


def test_error_in_a_batch_names_the_document():
    with pytest.raises(TypeError, match="document 1"):
        dedup.Deduplicator().dedupe_many([PARA, b"x"])


@pytest.mark.parametrize("text", ["", " ", "\n\n\n", "\t \r\n \n", "\r\r\r"])
def test_empty_and_blank_come_back_unchanged(text):
    r = dedup.explain(text)
    assert r.text == text and r.removed == []


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r"])
def test_line_endings(sep):
    text = sep.join([PARA, "", "Another paragraph entirely, with words nobody repeats here.", "", PARA]) + sep
    out = dedup.dedupe_text(text)
    assert out.count(PARA) == 1
    assert out.startswith(PARA + sep)


def test_mixed_line_endings_and_odd_characters_kept_byte_identical():
    odd = "Lone \ud800 surrogate, NUL \x00 byte, tab\tand RTL \u05e9\u05dc\u05d5\u05dd and zero\u200bwidth, combining e\u0301."
    text = f"{odd}\r\n\r\n{PARA}\n\n{odd}\r\n\n{PARA}"
    r = dedup.explain(text)
    assert r.text.count(odd) == 1 and r.text.count(PARA) == 1
    for start, end in r.paragraphs:
        piece = text[start:end]
        assert piece in (odd, PARA)
    assert r.text.startswith(odd + "\r\n\r\n" + PARA)


def test_large_single_paragraph_in_bounded_memory():
    # 10 MB of text in one paragraph (the 50 MB case runs in the slow suite)
    rng = random.Random(7)  # not periodic: a periodic text really is a repeated span
    words = " ".join(f"w{rng.randrange(10**9)}" for i in range(1_000_000))
    tracemalloc.start()
    out = dedup.dedupe_text(words)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out == words
    assert peak < 30 * len(words), f"peak {peak / 1e6:.0f} MB for {len(words) / 1e6:.0f} MB of text"


@pytest.mark.slow
def test_fifty_megabyte_paragraph():
    rng = random.Random(7)
    words = " ".join(f"token{rng.randrange(10**9)}" for i in range(3_500_000))
    assert len(words) > 50_000_000
    tracemalloc.start()
    text = words + "\n\n" + words
    out = dedup.dedupe_text(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out == words  # the second copy goes, with the separator before it
    assert peak < 12 * len(text), f"peak {peak / 1e6:.0f} MB for {len(text) / 1e6:.0f} MB of text"


@pytest.mark.parametrize("how", ["iter_dedupe", "dedupe_stream"])
def test_a_bad_document_comes_after_every_result_before_it(how):
    # 9,000 good documents then a bad one (a number): the batch holding the good ones runs (results
    # out, paragraphs indexed) before the error is raised; it used to lose the 808 past 8,192.
    good = [f"Document number {i} has a paragraph of its own, long enough to count." for i in range(9000)]
    d = dedup.Deduplicator()
    out = []
    with pytest.raises(dedup.InputTypeError, match="(document|record) 9000"):
        if how == "iter_dedupe":
            for r in d.iter_dedupe(good + [3]):  # type: ignore[list-item]
                out.append(r.text)
        else:
            for r in dedup.dedupe_stream(good + [3], deduplicator=d):
                out.append(r.record)
    assert out == good
    assert d.stats.documents == 9000
    assert d.dedupe(good[-1]).text == ""  # the last good document was indexed
