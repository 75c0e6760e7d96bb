"""ShingleSets: the settings passed whole equal the loose keywords; rows taken and batches joined."""

import numpy as np

from dedup import DedupConfig
from dedup.fingerprint.shingles import ShingleSets, shingle_sets, word_hashes

PARAS = ["The Quick brown fox jumps over the lazy dog.", "ﬁne Straße", "", "日本語のテキスト", "a b", "x y z w v u"]


def _arrays(sets: ShingleSets):
    return [sets.hashes.tolist(), sets.offsets.tolist(), sets.n_tokens.tolist(), sets.set_keys.tolist()]


def test_text_settings_give_the_same_sets_as_the_loose_keywords():
    for cfg in (DedupConfig(), DedupConfig(ngram=2, normalization="none", unspaced_scripts="words")):
        loose = shingle_sets(PARAS, cfg.ngram, cfg.normalization, cfg.unspaced_scripts)
        assert _arrays(shingle_sets(PARAS, text=cfg.text)) == _arrays(loose)
        words, counts = word_hashes(PARAS, text=cfg.text)
        ref_words, ref_counts = word_hashes(PARAS, cfg.normalization, cfg.unspaced_scripts)
        assert words.tolist() == ref_words.tolist() and counts.tolist() == ref_counts.tolist()


def test_take_and_concat_equal_the_sets_computed_directly():
    sets = shingle_sets(PARAS)
    rows = np.array([4, 0, 0, 2, 5])
    assert _arrays(sets.take(rows)) == _arrays(shingle_sets([PARAS[r] for r in rows.tolist()]))
    joined = ShingleSets.concat([shingle_sets(PARAS[:2]), shingle_sets(PARAS[2:3]), shingle_sets(PARAS[3:])])
    assert _arrays(joined) == _arrays(sets)
