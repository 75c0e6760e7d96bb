"""Repeats that paragraph splitting misses: a doubled text in one paragraph, repeated sentences."""

import random

import numpy as np
import pytest

import dedup
from dedup.accel import jit as _jit
from dedup.decide.inner import _distance_to_previous, find_inner_repeats, find_inner_repeats_many
from dedup.text.split import sentence_spans


def test_seed_without_its_newline_comes_back_once(seed_text):
    first = seed_text.split("\n")[0]
    one_block = seed_text.replace("\n", " ")
    r = dedup.explain(one_block)
    assert r.text == first
    (rem,) = r.removed
    assert rem.reason == "inner" and rem.index == 0 and rem.similarity == 1.0
    assert one_block[rem.matched_start:rem.matched_end] == one_block[rem.start:rem.end]


def test_lightly_edited_second_copy_is_removed(seed_text):
    first = seed_text.split("\n")[0]
    edited = first.replace("warning", "warn").replace("military", "armed", 1).replace("Additionally, ", "")
    r = dedup.explain(first + " " + edited)
    assert r.text == first
    assert 0.8 <= r.removed[0].similarity < 1.0


def test_short_repeated_phrase_stays():
    text = ("We shall fight on the beaches, we shall fight on the landing grounds, we shall fight in the "
            "fields and in the streets, we shall fight in the hills; we shall never surrender.")
    assert dedup.dedupe_text(text) == text
    refrain = "Let it be, let it be, let it be, let it be. Whisper words of wisdom, let it be. " * 2
    assert dedup.dedupe_text(refrain) == refrain  # about 20 tokens repeated: under inner_min_tokens


def test_inner_repeats_can_be_switched_off(seed_text):
    one_block = seed_text.replace("\n", " ")
    assert dedup.dedupe_text(one_block, inner_repeats=False) == one_block


def test_inner_repeat_requires_min_tokens(seed_text):
    first = seed_text.split("\n")[0]
    assert find_inner_repeats(first + " " + first, min_tokens=400) == []
    assert len(find_inner_repeats(first + " " + first, min_tokens=300)) == 1


def test_sentence_spans():
    text = "  First one. Second? \u201cThird!\u201d  Last without stop"
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "First one.", "Second?", "\u201cThird!\u201d", "Last without stop"]
    cjk = "\u4eca\u5929\u3002\u660e\u5929\u3002"
    assert [cjk[s:e] for s, e in sentence_spans(cjk)] == ["\u4eca\u5929\u3002", "\u660e\u5929\u3002"]


def test_sentence_granularity_removes_repeated_sentences():
    s1 = "The board approved the annual budget after a long debate on Tuesday evening."
    s2 = "Members also discussed the new library opening hours for the winter season."
    text = f"{s1} {s2}\n\nIn other news, {s2[0].lower()}{s2[1:]} {s1}\n"
    out = dedup.dedupe_text(text, granularity="sentence")
    assert out == f"{s1} {s2}\n\nIn other news, {s2[0].lower()}{s2[1:]}\n"
    # whole paragraphs differ, so paragraph granularity keeps everything
    assert dedup.dedupe_text(text) == text


def test_sentence_granularity_keeps_paragraph_breaks():
    s1 = "The board approved the annual budget after a long debate on Tuesday evening."
    text = f"Opening remarks were brief and to the point this time.\n\n{s1}\n\nAnother paragraph here. {s1}\n"
    out = dedup.dedupe_text(text, granularity="sentence")
    assert out == f"Opening remarks were brief and to the point this time.\n\n{s1}\n\nAnother paragraph here.\n"


@pytest.mark.parametrize("bad", ["word", 3])
def test_granularity_is_validated(bad):
    with pytest.raises(dedup.ConfigError, match="granularity"):
        dedup.DedupConfig(granularity=bad)


# Real text in scripts written without spaces (public domain: the Analects; Natsume Soseki, 1905).
ANALECTS = "學而時習之，不亦說乎？有朋自遠方來，不亦樂乎？人不知而不慍，不亦君子乎？"
ANALECTS_2 = "其為人也孝弟，而好犯上者，鮮矣；不好犯上，而好作亂者，未之有也。君子務本，本立而道生。"
SOSEKI = ("吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
          "何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。")


def test_unspaced_scripts_are_shingled_by_characters():
    sets = dedup.shingle_sets([ANALECTS, SOSEKI])
    assert sets.n_tokens[0] == sum(ch.isalnum() for ch in ANALECTS)
    assert len(sets.get(0)) > 20  # many character 5-grams, not one giant token
    words = dedup.shingle_sets([ANALECTS], unspaced="words")
    assert words.n_tokens[0] == 6  # one token per clause between the full-width punctuation


def test_chinese_near_duplicate_is_found():
    para = ANALECTS + ANALECTS_2
    edited = para.replace("遠方", "远方")  # one variant character in 71
    text = f"{para}\n\n{SOSEKI}\n\n{edited}\n"
    r = dedup.explain(text)
    assert r.text == f"{para}\n\n{SOSEKI}\n"
    assert 0.8 <= r.removed[0].similarity < 1.0
    # as one token per clause, the edited clause would be a different token: no longer a repeat
    assert dedup.dedupe_text(text, unspaced_scripts="words", threshold=0.9) == text


def test_japanese_repeat_and_distinct_text():
    text = f"{SOSEKI}\n\n{ANALECTS}\n\n{SOSEKI}\n"
    assert dedup.dedupe_text(text) == f"{SOSEKI}\n\n{ANALECTS}\n"
    assert dedup.dedupe_text(f"{SOSEKI}\n\n{ANALECTS}\n") == f"{SOSEKI}\n\n{ANALECTS}\n"


def test_distance_to_previous_occurrence():
    rng = np.random.default_rng(3)
    for n in (0, 1, 7, 500, 20_000):
        grams = rng.integers(0, max(2, n // 3), n).astype(np.uint32)
        last: dict = {}
        expected = np.zeros(n, dtype=np.int64)
        for i, g in enumerate(grams.tolist()):
            if g in last:
                expected[i] = i - last[g]
            last[g] = i
        assert np.array_equal(_distance_to_previous(grams), expected)


@pytest.mark.parametrize("jit", [False, True])
def test_batch_search_finds_what_the_one_by_one_search_finds(seed_text, jit):
    """The batch pre-check (whole-paragraph n-grams) never skips a paragraph holding a repeat,
    and the compiled sentence counts give the same spans."""
    if jit and not _jit.jit_available():
        pytest.skip("numba not installed")
    first = seed_text.split("\n")[0]
    words = first.split()
    rng = random.Random(5)
    texts = [first + " " + first, first, first + " " + first.upper() + " tail.", "x " * 300]
    for _ in range(150):  # copies with edits, sentence ends, non-ASCII and CJK in between
        a = " ".join(rng.choice(words) for _ in range(rng.randint(20, 90)))
        b = " ".join(w if rng.random() > 0.08 else rng.choice(["Ünïcode.", "\u4e2d\u6587\u3002", "e\u0301", "?!"])
                     for w in a.split())
        texts.append(rng.choice([". ", " ", "\u3002", "! \u201c"]).join([a, b, a][:rng.randint(2, 3)]))
    texts += ["\u00c9t\u00e9 " + t for t in texts[-20:]]  # non-ASCII (folded by the kernel)
    texts += ["\ufb01 " + t for t in texts[-5:]]  # a ligature: Python normalizes
    for min_tokens in (20, 50):
        with _jit.use_jit(jit):
            batch = find_inner_repeats_many(texts, min_tokens=min_tokens)
        assert batch == [find_inner_repeats(t, min_tokens=min_tokens) for t in texts]
        assert sum(map(bool, batch)) > 10
