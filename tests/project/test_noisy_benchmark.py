"""benchmarks/noisy.py: the generator is deterministic and each family does what its name says.

Runs on a few paragraphs written here (no ../shared needed).
"""

import random
import re

import numpy as np
import pytest

from benchmarks import noisy

ORIGINALS = [
    "The committee met on Tuesday, March 3, to review the 2019 budget. Members agreed that the "
    "maintenance contract should be renewed for another 12 months, although several of them "
    "questioned whether the supplier's prices were still competitive with other offers.",
    "Installation takes about twenty minutes on a modern computer. The installer asks a few questions "
    "about the keyboard layout, the network configuration and the partitioning scheme, then copies "
    "the selected packages onto the disk and configures the bootloader automatically.",
    "Volunteers translate the documentation into more than forty languages. Each translation team "
    "keeps its own schedule, reviews contributions from newcomers and coordinates with the original "
    "authors whenever a chapter is rewritten or reorganized substantially.",
    "A well-designed backup strategy separates the data that changes every day from the configuration "
    "that rarely does. Incremental copies of the former can run nightly, while a complete archive of "
    "everything is made once a week and stored somewhere else entirely.",
    "Security updates are announced on a dedicated mailing list. Administrators who subscribe receive "
    "a short description of each vulnerability, the affected versions and the commands needed to "
    "upgrade, usually within 24 hours of the fix becoming available.",
    "Before reporting a problem, check whether somebody else has already described it. Searching the "
    "existing reports by package name often reveals a workaround, and adding details to an open "
    "report is more helpful than filing a duplicate that someone has to merge later.",
]
WORDS = re.compile(r"\w+")


def words(text):
    return WORDS.findall(text)


def levenshtein(a, b, band=60):
    """Edit distance, computed in a diagonal band (the edits here are local: exact while the
    two texts never drift more than ``band`` apart)."""
    big = len(a) + len(b)
    prev = {j: j for j in range(min(len(b), band) + 1)}
    for i in range(1, len(a) + 1):
        cur = {}
        for j in range(max(0, i - band), min(len(b), i + band) + 1):
            if j == 0:
                cur[j] = i
                continue
            cur[j] = min(prev.get(j, big) + 1, cur.get(j - 1, big) + 1,
                         prev.get(j - 1, big) + (a[i - 1] != b[j - 1]))
        prev = cur
    return prev[len(b)]


def test_streams_are_deterministic_per_seed_and_condition():
    vocab = noisy.vocabulary_of(ORIGINALS)
    for name in noisy.CONDITIONS:
        a = noisy.make_stream(ORIGINALS, name, seed=3, copies=2, vocabulary=vocab)
        b = noisy.make_stream(ORIGINALS, name, seed=3, copies=2, vocabulary=vocab)
        assert a.texts == b.texts and np.array_equal(a.source, b.source), name
    texts = {tuple(noisy.make_stream(ORIGINALS, "typos-5", seed=s, copies=3).texts) for s in range(4)}
    assert len(texts) > 1  # the seed matters


def test_stream_holds_every_original_in_order_and_each_copy_after_its_source():
    stream = noisy.make_stream(ORIGINALS, "typos-3", seed=0, copies=4)
    assert len(stream.texts) == len(ORIGINALS) + 4 and int(stream.is_copy.sum()) == 4
    assert [t for t, c in zip(stream.texts, stream.is_copy) if not c] == ORIGINALS
    position = {t: i for i, (t, c) in enumerate(zip(stream.texts, stream.is_copy)) if not c}
    for i in np.flatnonzero(stream.is_copy):
        assert position[ORIGINALS[stream.source[i]]] < i
    assert len(set(stream.source[stream.is_copy].tolist())) == 4  # one copy per source


def test_a_family_that_does_not_apply_is_not_drawn():
    stream = noisy.make_stream(ORIGINALS, "numbers-every", seed=0, copies=1)
    (src,) = stream.source[stream.is_copy]
    assert noisy.has_numbers(ORIGINALS[src])
    with pytest.raises(ValueError, match="only 2 originals fit"):
        noisy.make_stream(ORIGINALS, "numbers-one", seed=0, copies=3)


def test_truncation_keeps_the_first_share_of_the_words():
    for text in ORIGINALS:
        for share in (0.9, 0.8, 0.75):
            cut = noisy.truncate(text, share)
            assert text.startswith(cut)
            assert words(cut) == words(text)[:round(share * len(words(text)))]


def test_rewrap_breaks_lines_and_hyphenation_only_splits_words():
    for text in ORIGINALS:
        wide = noisy.rewrap(text, 60)
        assert "\n" in wide and max(map(len, wide.split("\n"))) <= 60
        assert wide.split() == text.split()
        narrow = noisy.rewrap(text, 32, hyphenate=True)
        assert max(map(len, narrow.split("\n"))) <= 32
        assert re.sub(r"-\n", "", narrow).split() == text.split()  # re-joined, the words are back
    breaks = [noisy.rewrap(t, 32, hyphenate=True).count("-\n") for t in ORIGINALS]
    assert sum(breaks) >= 4  # long words do get split
    for text in ORIGINALS:
        for line in noisy.rewrap(text, 32, hyphenate=True).split("\n"):
            if line.endswith("-"):
                assert re.search(r"(^|\s)[A-Za-z]{3,}-$", line)  # >= 3 letters stay on the line


@pytest.mark.parametrize("share", [0.01, 0.03, 0.05])
def test_typos_change_about_the_asked_share_of_characters(share):
    text = " ".join(ORIGINALS)
    nonspace = sum(not c.isspace() for c in text)
    changed = [levenshtein(text, noisy.typos(text, share, random.Random(k))) for k in range(6)]
    # an OCR confusion of two characters (rn -> m) costs 2 edits, a stray mark 1
    assert 0.6 * share * nonspace <= np.mean(changed) <= 1.6 * share * nonspace
    assert noisy.typos(text, 0.0, random.Random(0)) == text


def test_typos_mix_ocr_confusions_drops_and_marks():
    text = " ".join(ORIGINALS) * 3
    out = noisy.typos(text, 0.05, random.Random(1))
    assert len(out) < len(text)  # ~25% of the edits drop a character
    assert any(m in out for m in "~^`")  # stray marks
    assert sum(c.isdigit() for c in out) > sum(c.isdigit() for c in text)  # l -> 1, O -> 0, S -> 5 ...


@pytest.mark.parametrize("share", [0.05, 0.1, 0.2])
def test_word_edits_touch_about_the_asked_share_of_words(share):
    vocab = noisy.vocabulary_of(ORIGINALS)
    text = " ".join(ORIGINALS)
    n = len(words(text))
    changed = []
    for k in range(10):
        a, b = words(text), words(noisy.word_edits(text, share, random.Random(k), vocab))
        changed.append(levenshtein(a, b))
    assert 0.6 * share * n <= np.mean(changed) <= 1.4 * share * n


def test_format_levels():
    text = ORIGINALS[3] + ' He said "it\'s fine", then left.'
    first = noisy.reformat(text, 1, random.Random(0))
    first_sentence = noisy.sentences(text)[0]
    assert first.startswith(first_sentence.upper())
    assert "  " in first and '"' not in first and "\u201c" in first and "\u2019" in first
    assert words(first.lower()) == words(text.lower().replace("'", "\u2019"))
    second = noisy.reformat(text, 2, random.Random(0))
    assert "," not in second and "\u2019" not in second and "well-designed" not in second.lower()
    assert "WELLDESIGNED" in second and "its fine" in second


def test_boilerplate_lines_go_around_the_text_in_the_same_paragraph():
    text = ORIGINALS[0]
    before = noisy.boilerplate(text, "before", random.Random(0))
    after = noisy.boilerplate(text, "after", random.Random(0))
    both = noisy.boilerplate(text, "both", random.Random(0))
    assert before.endswith("\n" + text) and before.count("\n") == 1
    assert after.startswith(text + "\n") and after.count("\n") == 1
    assert f"\n{text}\n" in both and both.count("\n") == 2
    assert "\n\n" not in before + after + both


def test_numbers_one_or_every_changed_and_nothing_else():
    text = ORIGINALS[0]  # Tuesday, March, 3, 2019, 12
    one = noisy.change_numbers(text, False, random.Random(0))
    every = noisy.change_numbers(text, True, random.Random(0))
    diff_one = [(a, b) for a, b in zip(words(text), words(one)) if a != b]
    diff_every = [(a, b) for a, b in zip(words(text), words(every)) if a != b]
    assert len(words(one)) == len(words(every)) == len(words(text))
    assert len(diff_one) == 1
    assert sorted(a for a, _ in diff_every) == sorted(["Tuesday", "March", "3", "2019", "12"])
    assert all(len(a) == len(b) or not a.isdigit() for a, b in diff_every)


def test_swap_exchanges_two_adjacent_sentences():
    text = ORIGINALS[0] + " A third sentence ends here."
    out = noisy.swap_sentences(text, random.Random(0))
    assert out != text
    assert sorted(noisy.sentences(out)[::2]) == sorted(noisy.sentences(text)[::2])


def test_reprint_is_a_bylined_hyphenated_column_of_the_first_80_percent():
    text = " ".join(ORIGINALS[:2])
    out = noisy.reprint(text, random.Random(0))
    assert out.startswith("By ")
    body = out.split("\n", 1)[1]
    assert max(map(len, body.split("\n"))) <= 34  # 32 + a stray mark or an OCR rn for m
    n = len(words(re.sub(r"-\n", "", body)))
    assert abs(n - 0.8 * len(words(text))) <= 0.05 * len(words(text))


def test_settings_parse_and_dedup_coverage_rule():
    assert noisy.parse_settings("threshold=0.5,ngram=2,normalization=nfkc_casefold+digits,inner_repeats=false,"
                                "preset=noisy") == {"threshold": 0.5, "ngram": 2, "inner_repeats": False,
                                                    "normalization": "nfkc_casefold+digits", "preset": "noisy"}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        noisy.parse_settings("threshold")
    texts = ["abcdefghij", "abcdefghij"]
    assert noisy.dedup_removed([[(0, 5)], [(0, 4)]], texts).tolist() == [True, False]


def test_scoring_counts_copies_found_and_originals_removed():
    stream = noisy.make_stream(ORIGINALS, "trunc-75", seed=0, copies=3)
    removed = stream.is_copy.copy()
    removed[np.flatnonzero(stream.is_copy)[0]] = False
    removed[np.flatnonzero(~stream.is_copy)[0]] = True
    s = noisy.score(stream, removed)
    assert (s["found"], s["copies"], s["false_removals"], s["originals"]) == (2, 3, 1, len(ORIGINALS))


def test_bad_dedup_settings_are_refused_before_any_run():
    with pytest.raises(ValueError, match="unknown setting"):
        noisy.make_systems([], ["nonsense=1"])
    with pytest.raises(ValueError, match="unknown system"):
        noisy.make_systems(["dedupe"], [])


def test_prototype_rules_join_hyphenated_lines_and_tell_typos_from_changed_words():
    from benchmarks import noisy_rules as nr

    assert nr.tokens("lan-\n  guage, well-known", ("dehyphen",)) == ["language", "well", "known"]
    assert nr.near_miss("kernel", "kerne1") and nr.near_miss("device", "devicc")
    assert not nr.near_miss("maximum", "minimum") and not nr.near_miss("2019", "2018")
    later = nr.written_tokens("Then Joram slept with his fathers and was buried in the city of David.")
    earlier = nr.written_tokens("Then Jehoshaphat slept with his fathers and was buried in the city of David.")
    d = nr.differences(later, earlier)
    assert (d.later, d.earlier, d.name_changes) == (1, 1, 1)
    typo = nr.written_tokens("Then Jehoshapat slept with his fathcrs and was buricd in the city of David.")
    assert nr.differences(typo, earlier).symmetric == 0
    swapped = nr.written_tokens("One sentence here today. Another one follows it now.")
    original = nr.written_tokens("Another one follows it now. One sentence here today.")
    assert nr.differences(swapped, original).symmetric == 0
