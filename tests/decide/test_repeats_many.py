"""A span repeated 3+ times inside one paragraph, and one sentence repeated over and over.

The rule (docs/contract.md, "Inner repeats"): text that repeats with period p inside one
paragraph (the same span k >= 2 times in a row, whole or lightly edited) is cut down to its
first copy when the repeats after the first copy hold at least ``inner_min_tokens`` tokens;
a refrain whose repeats hold fewer stays whole.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dedup
from dedup.accel import jit as _jit

from helpers import shared_data

JIT = [False, pytest.param(True, marks=pytest.mark.skipif(not _jit.jit_available(), reason="numba not installed"))]


def _first_copy(doubled: str) -> str:
    """One copy of an article that a file holds twice on one line."""
    one = doubled.strip()
    half = (len(one) - 1) // 2
    assert one[:half] == one[half + 1:], "the file holds one article twice, joined by one space"
    return one[:half]


@pytest.fixture(scope="module")
def article(example_text):
    return _first_copy(example_text)


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("k", [2, 3, 4, 6])
def test_founding_example_pasted_k_times_comes_out_once(article, k, jit):
    with _jit.use_jit(jit):
        r = dedup.explain(" ".join([article] * k))
        assert r.text == article
        (rem,) = r.removed  # one span: copies 2..k
        assert rem.reason == "inner" and rem.similarity == 1.0
        assert (rem.start, rem.end) == (len(article) + 1, k * (len(article) + 1) - 1)
        assert (rem.matched_start, rem.matched_end) == (0, len(article))
        assert dedup.dedupe_text(r.text) == r.text


@pytest.mark.parametrize("k", [3, 4])
def test_shared_seed_pasted_k_times_comes_out_once(k):
    seed = shared_data("seed_news_doubled.txt").read_text(encoding="utf-8")
    first = seed.split("\n")[0]
    assert dedup.dedupe_text(" ".join([first] * k)) == first
    # the seed as shipped (two copies on one line each), pasted again: still one copy
    one_line = seed.replace("\n", " ").strip()
    assert dedup.dedupe_text(" ".join([one_line] * k)) == first


def test_copies_anywhere_in_the_paragraph(article):
    intro = "Editor's note: this story was updated on Wednesday with the final count."
    outro = "Reporting by the harbour desk; additional reporting by staff writers."
    text = " ".join([intro] + [article] * 3 + [outro])
    assert dedup.dedupe_text(text) == f"{intro} {article} {outro}"


def test_copies_separated_by_other_text(article):
    between = ["Advertisement: visit the new garden centre on Quay Street, open every day from nine.",
               "Read more: the council publishes its minutes online every second Friday afternoon."]
    text = " ".join([article, between[0], article, between[1], article])
    assert dedup.dedupe_text(text) == f"{article} {between[0]} {between[1]}"


@pytest.mark.parametrize("between", [("Advertisement.", "Read more."), ("Advertisement.", "Advertisement."),
                                     ("Click here to subscribe today.", "Share this story with friends.")])
def test_short_text_between_copies_stays_unless_it_repeats_too(article, between):
    x, y = between
    r = dedup.explain(" ".join([article, x, article, y, article]))
    assert r.text == (f"{article} {x}" if x == y else f"{article} {x} {y}")
    assert dedup.dedupe_text(r.text) == r.text


def test_lightly_edited_copies(article):
    second = article.replace("lighthouse", "light house", 1).replace("Tuesday", "Monday")
    third = article.replace("council", "councillors", 2).replace(" heritage", "")
    r = dedup.explain(" ".join([article, second, third]))
    assert r.text == article
    assert all(0.8 <= rem.similarity <= 1.0 for rem in r.removed)


def test_edit_in_copy_two_still_removes_copy_three_whole(article):
    """An edit in copy 2 makes copy 3 recur from copy 1 there (twice the distance)."""
    words = article.split()
    second = " ".join(w if i % 40 != 7 else w.upper() + "x" for i, w in enumerate(words))
    assert dedup.dedupe_text(" ".join([article, second, article])) == article


SENTENCE = "The quick brown fox jumps over the lazy dog near the river bank."  # 13 tokens


@pytest.mark.parametrize("jit", JIT)
def test_one_sentence_two_thousand_times_is_spam(jit):
    text = " ".join([SENTENCE] * 2000)  # 130 KB in one paragraph
    with _jit.use_jit(jit):
        r = dedup.explain(text)
    assert r.text == SENTENCE
    (rem,) = r.removed
    assert rem.start == len(SENTENCE) + 1 and rem.end == len(text) and rem.reason == "inner"


def test_refrain_stays_until_its_repeats_reach_inner_min_tokens():
    # repeats after the first copy: 3 x 13 = 39 tokens < 50 stays; 4 x 13 = 52 goes
    four = " ".join([SENTENCE] * 4)
    assert dedup.dedupe_text(four) == four
    assert dedup.dedupe_text(" ".join([SENTENCE] * 5)) == SENTENCE
    # the rule follows the setting
    assert dedup.dedupe_text(four, inner_min_tokens=39) == SENTENCE
    assert dedup.dedupe_text(" ".join([SENTENCE] * 5), inner_min_tokens=53) == " ".join([SENTENCE] * 5)


def test_refrain_between_other_sentences_stays():
    chorus = "Oh, the rolling sea, the rolling sea!"
    verses = ["We sailed from Bristol in the spring with forty men aboard.",
              "The captain swore we'd see the Cape before the summer's end.",
              "But storms came down upon us near the islands of the west.",
              "And only twenty came back home to tell it to the town."]
    text = " ".join(v + " " + chorus for v in verses)
    assert dedup.dedupe_text(text) == text


def test_last_sentence_without_end_mark_straddling_the_copies():
    words = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
             "upsilon phi chi psi omega one two three four five six seven eight nine ten eleven twelve").split()
    p = " ".join(words[:12]) + ". " + " ".join(words[12:])  # 36 tokens; its last sentence has no end mark
    assert dedup.dedupe_text(" ".join([p] * 2)) == " ".join([p] * 2)  # 36 repeated tokens < 50
    for k in (3, 4):
        assert dedup.dedupe_text(" ".join([p] * k)) == p


# -- the property: k copies of a random paragraph come out as one ------------------------

VOCAB = ("harbour council vote lighthouse storm glass winter proposal repairs cost fund region heritage "
         "leader result building crest school badge tourism ferry museum night keeper lamp engineer survey "
         "report stone tower paint rust bolt cable crane dredge quay pier tide moon river market bakery "
         "mayor budget grant letter petition meeting hall evening morning summer autumn spring island coast "
         "cliff path garden bench statue bell clock window door roof wall floor stair rope boat sail net "
         "fish crab gull wind rain fog sun cloud wave sand rock shell salt").split()
END = st.sampled_from([".", "!", "?", ".\u201d", "?)", "\u3002"])


@st.composite
def paragraphs(draw):
    words = draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=60, unique=True))
    if draw(st.booleans()):  # no sentence marks at all: one sentence
        return " ".join(words) + draw(st.sampled_from(["", ",", ";", "\u2026"]))
    cuts = sorted(draw(st.sets(st.integers(1, len(words)), max_size=8)) | {len(words)})
    out, at = [], 0
    for c in cuts:
        out.append(" ".join(words[at:c]) + draw(END))
        at = c
    return " ".join(out)


@pytest.mark.parametrize("jit", JIT)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(paragraphs(), st.integers(2, 6))
def test_k_copies_of_a_paragraph_come_out_once(jit, p, k):
    text = " ".join([p] * k)
    with _jit.use_jit(jit):
        r = dedup.explain(text)
        n_tokens = len(p.split())
        if (k - 1) * n_tokens >= 50:  # the repeats reach inner_min_tokens
            assert r.text == p
        else:
            assert r.text == text
        assert dedup.dedupe_text(r.text) == r.text
