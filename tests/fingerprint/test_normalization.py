"""Normalization steps: digits, accents, punctuation; part of the index fingerprint; both paths agree."""

from __future__ import annotations

import pytest

import dedup
from dedup.accel import jit

FOOTER = "Copyright {} The Example Authors. All rights reserved under the licence stated here."
CAFE = "Le café de la gare est ouvert tous les jours de six heures à minuit pour les voyageurs."


def test_a_footer_differing_only_in_its_year_repeats_with_digits():
    text = FOOTER.format(2019) + "\n\n" + FOOTER.format(2024) + "\n"
    assert dedup.dedupe_text(text) == text  # one token in 14 differs: kept
    assert dedup.dedupe_text(text, normalization="nfkc_casefold+digits") == FOOTER.format(2019) + "\n"


def test_accents_and_punctuation_steps():
    plain = CAFE.replace("é", "e").replace("à", "a")
    assert dedup.dedupe_text(CAFE + "\n\n" + plain, normalization="nfkc_casefold+accents") == CAFE
    a = "Don't forget the e-mail to the U.S office about the meeting on the harbour road tomorrow."
    b = "Dont forget the email to the US office about the meeting on the harbour road tomorrow."
    assert dedup.dedupe_text(a + "\n\n" + b, normalization="nfkc_casefold+punctuation") == a
    assert dedup.dedupe_text(a + "\n\n" + b) == a + "\n\n" + b


@pytest.mark.parametrize("bad", ["nfkc_casefold+foo", "lower", "none+digits+digits", 3])
def test_bad_specs_are_refused_with_their_name(bad):
    with pytest.raises(dedup.ConfigError, match="normalization"):
        dedup.DedupConfig(normalization=bad)


def test_the_steps_are_part_of_the_index_settings(tmp_path):
    path = tmp_path / "x.dedup"
    with dedup.SqliteIndex(path) as index:
        dedup.Deduplicator(index=index, normalization="nfkc_casefold+digits").dedupe(FOOTER.format(1), "a")
    with pytest.raises(dedup.IndexMismatchError, match="normalization"):
        dedup.Deduplicator(index=str(path))


@pytest.mark.skipif(not jit.jit_available(), reason="numba not installed")
def test_kernels_and_numpy_give_the_same_decisions_with_steps():
    texts = [FOOTER.format(year) + f"\n\n{CAFE}\n\nPage {i} of {year} stays, words of its own here."
             for i, year in enumerate(range(1990, 2030))]
    out = []
    for enabled in (True, False):
        with jit.use_jit(enabled):
            d = dedup.Deduplicator(normalization="nfkc_casefold+digits+accents")
            out.append([r.text for r in d.dedupe_many(texts)])
    assert out[0] == out[1]
    assert out[0][1] == ""  # everything of the second page repeats the first, digits aside


def test_a_tokenizer_of_your_own():
    def characters(text):  # a "tokenizer" that makes every non-space character a token
        return [c for c in text if not c.isspace()]

    dedup.register_tokenizer("chars-for-test", characters)
    a = "abcdefghijklmnopqrstuvwxyz0123"
    b = "abcdefghij klmnopqrstuvwxyz0123"  # the same characters, one space more
    assert dedup.dedupe_text(a + "\n\n" + b) == a + "\n\n" + b  # default words: two different tokens
    assert dedup.dedupe_text(a + "\n\n" + b, normalization="nfkc_casefold+tokenizer=chars-for-test") == a
    with pytest.raises(dedup.ConfigError, match="no tokenizer registered"):
        dedup.DedupConfig(normalization="nfkc_casefold+tokenizer=missing")
    config = dedup.DedupConfig(normalization="nfkc_casefold+tokenizer=chars-for-test")
    assert config.fingerprint_settings()["normalization"].endswith("tokenizer=chars-for-test")
