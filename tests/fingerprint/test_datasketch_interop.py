"""Signatures are datasketch 2.0 signatures: same permutations, same values, same estimates."""

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash

import dedup
from dedup.decide.verify import jaccard_sorted
from dedup.fingerprint.minhash import estimate_jaccard, from_minhash, permutations, signatures, to_lean_minhash

PARAS = [
    "The licence grants permission to use, copy, modify and distribute this software for any purpose.",
    "The licence grants permission to use, copy, modify and distribute the software for any purpose whatsoever.",
    "In the beginning God created the heaven and the earth.",
    "short one",
]


def _identity(x):
    return x


@pytest.mark.parametrize("num_perm, seed", [(128, 1), (64, 7), (256, 42)])
def test_permutations_are_datasketchs(num_perm, seed):
    m = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
    a, b = permutations(num_perm, seed)
    assert np.array_equal(m.permutations[0], a) and np.array_equal(m.permutations[1], b)


@pytest.mark.parametrize("num_perm, seed", [(128, 1), (64, 7)])
def test_signatures_equal_datasketch_update_batch(num_perm, seed):
    sets = dedup.shingle_sets(PARAS)
    ours = signatures(sets.hashes, sets.offsets, num_perm, seed)
    for i in range(len(PARAS)):
        m = MinHash(num_perm=num_perm, seed=seed, hashfunc=_identity, scheme="affine32")
        m.update_batch([int(h) for h in sets.get(i)])
        assert np.array_equal(m.hashvalues, ours[i]), i


def test_lean_minhash_round_trip_and_estimates_agree():
    sets = dedup.shingle_sets(PARAS)
    sigs = signatures(sets.hashes, sets.offsets)
    lean = [to_lean_minhash(s) for s in sigs]
    assert all(isinstance(m, LeanMinHash) for m in lean)
    for s, m in zip(sigs, lean):
        assert np.array_equal(from_minhash(m), s)
    for i in range(len(PARAS)):
        for j in range(len(PARAS)):
            assert lean[i].jaccard(lean[j]) == pytest.approx(estimate_jaccard(sigs[i], sigs[j]))
    # the estimate tracks the true similarity of the near pair
    true = jaccard_sorted(sets.get(0), sets.get(1))
    assert abs(lean[0].jaccard(lean[1]) - true) < 0.2


def test_datasketch_serialized_lean_minhash_comes_back():
    sets = dedup.shingle_sets(PARAS[:1])
    sig = signatures(sets.hashes, sets.offsets)[0]
    m = to_lean_minhash(sig)
    buf = bytearray(m.bytesize())
    m.serialize(buf)
    assert np.array_equal(from_minhash(LeanMinHash.deserialize(buf)), sig)


def test_other_schemes_are_refused():
    with pytest.raises(ValueError, match="affine32"):
        from_minhash(MinHash(num_perm=16, scheme="legacy"))
