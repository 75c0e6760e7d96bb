"""The compiled engine (dedup.accel._core) against the reference path, value for value.

The goldens (tests/engine/test_speed_paths.py) hold its decisions on the real corpora; here, the pieces
one by one on tricky input: XXH3 of every length, shingle sets under every normalization (steps
included), token spans, and whole runs on random documents against the numpy batch path.
"""

from __future__ import annotations

import os
import pickle
import random

import numpy as np
import pytest
import xxhash

import dedup
from dedup.accel import jit, native
from dedup.config import DedupConfig
from dedup.fingerprint.shingles import shingle_sets_numpy, word_hashes

if native.core() is None:
    pytestmark = pytest.mark.skipif(not os.environ.get("CI"), reason="the compiled engine is not built "
                                    "(no C compiler at install: python setup.py build_ext --inplace)")

ALPHABET = "ab1 2-.'\u2019\u00b7_\u4e2d\u00c9\u00e9\u00b2\ufb01\n\r\t\u00a0\u3002!?\"\u00df"
TRICKY = ["don't e-mail U.S.A. 3.14 1,000 ab--cd a.-b x's \u4e2d-\u6587 ab-\u4e2d a-_b 2019-12-07 v1.2.3",
          "\u00b2\u00b3 \uff11\uff12 a-1 1-a \u2019tis o\u2019clock l\u00b7l \uff13.\uff11\uff14 \u216b x\u00b2 \u00bd",
          "Caf\u00e9 d\u00e9j\u00e0 vu: na\u00efve r\u00e9sum\u00e9 fa\u00e7ade, \u00fcber stra\u00dfe; \u00c9COLE \ufb01ne",
          "\u4e2d\u6587\u6bb5\u843d\u7528\u4e8e\u6d4b\u8bd5\u3002\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3002",
          "Emoji \U0001f600 \U0001d518\U0001d52b\U0001d526 astral", "a." + "b" * 300 + "-c " + "x" * 200,
          "", "   ", "a", "A\ud800B lone surrogate",
          "lan-\nguage 12-\n34 a-\r\nb x -\ny z-\n\nq ab-  \t\n\t cd \u4e2d-\n\u6587 ab-\n\u4e2d \u00e9-\n\u00c9 "
          "x-\u00a0\n\u2003y don'-\nt e-\nmail-\n x-\r\r\ny -\na b-\n",
          "1" * 300 + "-\n" + "2" * 5 + " " + "a" * 250 + "-\n  " + "b" * 3 + "'" + "c"]


def _random_texts(n: int, seed: int) -> list:
    rng = random.Random(seed)
    return [("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 60)))) for _ in range(n)]


def test_xxh3_equals_xxhash_at_every_length():
    rng = random.Random(1)
    for n in list(range(1, 600)) + [rng.randrange(600, 20000) for _ in range(40)]:
        data = bytes(rng.randrange(256) for _ in range(n))
        assert native.core().xxh3_64(data) == xxhash.xxh3_64_intdigest(data), n


@pytest.mark.parametrize("normalization", ["nfkc_casefold", "none", "nfkc_casefold+digits",
                                           "nfkc_casefold+punctuation", "nfkc_casefold+digits+punctuation",
                                           "nfkc_casefold+punctuation+digits", "nfkc_casefold+accents",
                                           "none+digits+punctuation", "nfkc_casefold+dehyphenate",
                                           "nfkc_casefold+dehyphenate+digits+punctuation",
                                           "nfkc_casefold+dehyphenate+punctuation+digits",
                                           "nfkc_casefold+dehyphenate+accents", "none+dehyphenate"])
@pytest.mark.parametrize("unspaced", ["chars", "words"])
def test_shingle_sets_equal_the_numpy_path(normalization, unspaced):
    from dedup.engine.compiled import make_engine

    texts = TRICKY + _random_texts(1500, hash((normalization, unspaced)) & 0xFFFF)
    config = DedupConfig(normalization=normalization, unspaced_scripts=unspaced)
    hashes, offsets, n_tokens, keys = make_engine(config).sets(texts)
    ref = shingle_sets_numpy(texts, text=config.text)
    assert np.array_equal(np.frombuffer(n_tokens, np.int64), ref.n_tokens)
    assert np.array_equal(np.frombuffer(offsets, np.int64), ref.offsets)
    assert np.array_equal(np.frombuffer(hashes, np.uint32), ref.hashes)
    assert np.array_equal(np.frombuffer(keys, np.uint64), ref.set_keys)


def test_token_spans_cover_the_tokens():
    for text in TRICKY[:6]:
        found = native.tokens(text)
        if found is None:  # a character Python must normalize
            continue
        hashes, starts, ends = found
        assert np.array_equal(hashes, word_hashes([text])[0])
        assert all(text[a:b].strip() and a < b for a, b in zip(starts.tolist(), ends.tolist()))


def _documents(n: int, seed: int) -> list:
    """Random documents whose paragraphs repeat, nearly repeat and repeat inside themselves."""
    rng = random.Random(seed)
    pool = [" ".join(rng.choice(["alpha", "beta", "gamma", "delta", "eps", "zeta", "Eta", "th\u00e9ta", "iota",
                                 "kappa", "lambda", "mu"]) for _ in range(rng.randint(3, 30))) for _ in range(40)]
    docs = []
    for _ in range(n):
        paras = []
        for _ in range(rng.randint(0, 5)):
            p = rng.choice(pool)
            if rng.random() < 0.3:
                words = p.split()
                words[rng.randrange(len(words))] = "edited"
                p = " ".join(words)
            if rng.random() < 0.15:  # cut short
                words = p.split()
                p = " ".join(words[:max(1, int(len(words) * rng.uniform(0.4, 1.0)))])
            if rng.random() < 0.1:
                p = p + ". " + p + ". " + p
            if rng.random() < 0.15:  # re-wrapped, a word hyphenated at the line end
                cut = rng.randrange(len(p) + 1)
                p = p[:cut] + "-\n" + p[cut:]
            paras.append(p)
        docs.append(rng.choice(["\n\n", "\n", "\r\n\r\n"]).join(paras))
    return docs


@pytest.mark.parametrize("settings", [{}, {"scope": "document"}, {"granularity": "sentence"}, {"granularity": "line"},
                                      {"granularity": "document"}, {"threshold": 0.5}, {"max_bucket_candidates": 1},
                                      {"exact_only": True}, {"exact_only": True, "scope": "document"},
                                      {"normalization": "nfkc_casefold+digits+punctuation"},
                                      {"normalization": "nfkc_casefold"}, {"containment": None},
                                      {"containment": 0.6, "containment_min_tokens": 4, "containment_min_size": 0.2},
                                      {"containment": 0.6, "containment_min_tokens": 4, "scope": "document"},
                                      {"inner_min_tokens": 6}, {"min_tokens": 3}])
def test_random_runs_decide_as_the_numpy_path(settings):
    docs = _documents(300, hash(tuple(sorted(settings.items()))) & 0xFFFF)
    ids = [f"d{i % 250}" for i in range(len(docs))]  # some ids come again: replays and changed texts
    with native.use_native(False), jit.use_jit(False):
        ref = dedup.Deduplicator(batch_paragraphs=97, **settings)
        want = [(r.text, list(map(tuple, r.removed))) for r in ref.dedupe_many(docs, ids)]
    d = dedup.Deduplicator(**settings)
    got = [(r.text, list(map(tuple, r.removed))) for r in d.dedupe_many(docs, ids)]
    assert got == want
    assert d.stats.to_dict() == ref.stats.to_dict()
    one = dedup.Deduplicator(**settings)
    assert [(r.text, list(map(tuple, r.removed))) for r in (one.dedupe(t, i) for t, i in zip(docs, ids))] == want


def test_workers_and_a_pickled_deduplicator_give_the_same_decisions():
    docs = _documents(400, 7)
    want = [r.text for r in dedup.Deduplicator().dedupe_many(docs)]
    assert [r.text for r in dedup.Deduplicator(workers=3).dedupe_many(docs)] == want
    d = dedup.Deduplicator()
    first = [r.text for r in d.dedupe_many(docs[:200])]
    again = pickle.loads(pickle.dumps(d))
    assert first + [r.text for r in again.dedupe_many(docs[200:])] == want


def test_an_unchanged_record_is_its_own_string_with_lazy_units():
    text = "One paragraph here, long enough to count.\n\nAnother one, also long enough to count."
    r = dedup.Deduplicator().dedupe(text, "a")
    assert r.text is text and r.removed == [] and not r.changed
    assert list(r.paragraphs) == [(0, 41), (43, 82)]
    assert pickle.loads(pickle.dumps(r)) == r


@pytest.mark.parametrize("num_perm, threshold", [(128, 0.8), (64, 0.5), (256, 0.9)])
def test_band_keys_for_the_batch_path_equal_the_numpy_signatures(num_perm, threshold):
    from dedup.engine.compiled import CompiledPrints
    from dedup.fingerprint.lsh import band_keys
    from dedup.fingerprint.minhash import minhash_rows

    texts = TRICKY + _random_texts(800, num_perm)
    config = DedupConfig(num_perm=num_perm, threshold=threshold)
    prints = CompiledPrints.of(config)
    assert prints is not None
    sets = prints.sets(texts)
    ref = shingle_sets_numpy(texts, text=config.text)
    assert np.array_equal(sets.hashes, ref.hashes) and np.array_equal(sets.offsets, ref.offsets)
    rows = np.arange(0, len(texts), 3, dtype=np.int64)
    expected = band_keys(minhash_rows(ref, rows, num_perm, config.seed), config.layout)
    assert np.array_equal(prints.band_keys(sets, rows), expected)
    with pytest.raises(IndexError):
        prints.band_keys(sets, np.array([len(texts)], dtype=np.int64))
