"""The Index contract, passed by every index: memory, SQLite, Redis and a user-written one.

Each test takes ``backend``: a factory ``open()`` giving the index (again: the same
storage reopened, so persistent indexes prove they kept everything).
"""

from __future__ import annotations

import numpy as np
import pytest

import dedup
from dedup.index.base import Index, Location, check_settings
from index_support import corpus, fresh_prefix, key_of, make_batch, redis_client, redis_url, run  # noqa: F401

CONFIG = dedup.DedupConfig(scope="corpus")


class CoreOnly(Index):
    """A user-written index: only the abstract methods; ``batch``, ``shingle_spans``,
    ``band_candidates_sorted``, ``location_columns`` are the base class's defaults."""

    def __init__(self):
        self.inner = dedup.MemoryIndex()

    def bind(self, fingerprint, settings):
        self.inner.bind(fingerprint, settings)

    def __len__(self):
        return len(self.inner)

    def document(self, doc_id):
        return self.inner.document(doc_id)

    def first_exact(self, set_keys):
        return self.inner.first_exact(set_keys)

    def entry_set_keys(self, ids):
        return self.inner.entry_set_keys(ids)

    def band_candidates(self, band_keys, limit):
        return self.inner.band_candidates(band_keys, limit)

    def shingles(self, entry_id):
        return self.inner.shingles(entry_id)

    def location(self, entry_id):
        return self.inner.location(entry_id)

    def add(self, batch):
        self.inner.add(batch)


class Backend:
    def __init__(self, kind, tmp_path, request):
        self.kind = kind
        self._memory = None
        if kind == "sqlite":
            self.path = tmp_path / "corpus.dedup"
        if kind == "compact":
            self.path = tmp_path / "compact"
        if kind == "redis":
            self.url = request.getfixturevalue("redis_url")
            self.prefix = fresh_prefix()

    def open(self):
        if self.kind in ("memory", "user"):
            if self._memory is None:
                self._memory = dedup.MemoryIndex() if self.kind == "memory" else CoreOnly()
            return self._memory
        if self.kind == "sqlite":
            return dedup.SqliteIndex(self.path)
        if self.kind == "compact":
            from dedup.index.compact import CompactIndex
            return CompactIndex(self.path)
        return dedup.RedisIndex(redis_client(self.url), prefix=self.prefix)

    def bound(self, config=CONFIG):
        index = self.open()
        index.bind(config.fingerprint(), config.fingerprint_settings())
        return index


@pytest.fixture(params=["memory", "user", "sqlite", "compact", "redis"])
def backend(request, tmp_path):
    return Backend(request.param, tmp_path, request)


def test_is_an_index_with_a_batch_scope(backend):
    index = backend.open()
    assert isinstance(index, Index)
    with index.batch():
        with index.batch():  # re-entrant
            assert len(index) == 0


def test_empty_index_finds_nothing(backend):
    index = backend.bound()
    assert len(index) == 0
    assert index.document("a") is None
    assert index.first_exact(np.array([1, 2], dtype=np.uint64)).tolist() == [-1, -1]
    pos, ids = index.band_candidates(np.array([[1, 2]], dtype=np.uint64), 64)
    assert len(pos) == len(ids) == 0


def test_settings_are_part_of_the_index(backend):
    backend.bound()
    other = CONFIG.replace(threshold=0.9)
    again = backend.open()
    with pytest.raises(dedup.IndexMismatchError) as err:
        again.bind(other.fingerprint(), other.fingerprint_settings())
    message = str(err.value)
    assert CONFIG.fingerprint() in message and other.fingerprint() in message
    # each setting that differs, with both values; none of those that agree
    assert "built with bands=21, rows=6, threshold=0.8, now bands=12, rows=10, threshold=0.9 (" in message
    assert "ngram" not in message
    backend.open().bind(CONFIG.fingerprint(), CONFIG.fingerprint_settings())  # same settings: fine


def test_mismatch_without_a_differing_setting_names_the_fingerprints():
    with pytest.raises(dedup.IndexMismatchError, match=r"^index built with settings fingerprint a, now b$"):
        check_settings("index", ("a", {"threshold": 0.8}), "b", {"threshold": 0.8})
    with pytest.raises(dedup.IndexMismatchError, match=r"built with seed=<not set>, now seed=2 \("):
        check_settings("index", ("a", {}), "b", {"seed": 2})


def test_an_object_that_is_not_an_index_is_a_type_error():
    class DuckTyped:  # the methods, but not a dedup.Index
        def bind(self, fingerprint, settings):
            pass

    with pytest.raises(TypeError, match=r"subclass of dedup.Index.*got DuckTyped"):
        dedup.Deduplicator(index=DuckTyped())
    with pytest.raises(TypeError, match="got DuckTyped"):
        dedup.open_index(DuckTyped())
    with pytest.raises(TypeError, match="abstract"):  # a subclass must implement the core methods
        type("Partial", (Index,), {})()


def _two_batches(index):
    """Batch 1: doc "a" (3 entries, the third an exact repeat of the first) and doc 7 (1).
    Batch 2: doc ("t", 1) (2 entries), sharing band keys with batch 1."""
    with index.batch():
        assert len(index) == 0
        index.add(make_batch(
            set_keys=[100, 200, 100, 300],
            band_keys=[[1, 2], [3, 4], [1, 2], [1, 5]],
            sets=[[1, 2, 3], [4, 5], [], [7]],
            shingle_ref=[-1, -1, 0, -1],
            doc_ids=["a", 7], doc_sizes=[3, 1]))
    with index.batch():
        assert len(index) == 4
        index.add(make_batch(
            set_keys=[400, 300], band_keys=[[1, 9], [6, 5]], sets=[[8, 9], [7]],
            shingle_ref=[-1, -1], doc_ids=[("t", 1)], doc_sizes=[2], starts=[3, 50]))


def test_add_then_every_lookup(backend):
    index = backend.bound()
    _two_batches(index)
    index = backend.open()  # reopened: persistent indexes kept it all
    assert len(index) == 6
    assert index.document("a") == (0, 3)
    assert index.document(7) == (3, 1)
    assert index.document("7") is None  # doc ids keep their type
    assert index.document(("t", 1)) == (4, 2)
    # smallest stored id per set key; the exact repeat (entry 2) is not a holder
    k100, k200, k300, k400 = key_of([1, 2, 3]), key_of([4, 5]), key_of([7]), key_of([8, 9])
    assert index.first_exact(np.array([k300, k100, 999, k200, k400], dtype=np.uint64)).tolist() == [3, 0, -1, 1, 4]
    assert index.entry_set_keys(np.array([0, 1, 2, 3, 4, 5])).tolist() == [k100, k200, k100, k300, k400, k300]
    assert index.entry_set_keys(np.array([5, 0])).tolist() == [k300, k100]
    assert index.shingles(0).tolist() == [1, 2, 3]
    assert index.shingles(2).tolist() == [1, 2, 3]  # through its shingle ref
    assert index.shingles(4).tolist() == [8, 9]
    assert index.location(2) == Location("a", 2, 20, 25)
    assert index.location(3) == Location(7, 0, 30, 35)
    loc = index.location(5)
    assert loc == Location(("t", 1), 1, 50, 55) and isinstance(loc.doc_id, tuple)


def _pairs(index, keys, limit):
    pos, ids = index.band_candidates(np.array(keys, dtype=np.uint64), limit)
    assert pos.dtype.kind == "i" and ids.dtype.kind == "i"
    return sorted(zip(pos.tolist(), ids.tolist()))


def test_band_candidates_earliest_per_key_in_id_order(backend):
    index = backend.bound()
    _two_batches(index)
    index = backend.open()
    len(index)
    # key 1: entries 0, 3, 4 (entry 2 is an exact repeat: not in the band table)
    assert _pairs(index, [[1, 5]], 64) == [(0, 0), (0, 3), (0, 4), (1, 3), (1, 5)]
    assert _pairs(index, [[1, 5]], 2) == [(0, 0), (0, 3), (1, 3), (1, 5)]
    assert _pairs(index, [[42, 1]], 1) == [(1, 0)]
    pos, ids = index.band_candidates(np.array([[1, 5]], dtype=np.uint64), 64)
    for p in set(pos.tolist()):  # per key, increasing ids
        got = ids[pos == p]
        assert (np.diff(got) > 0).all()


def test_bucket_keeps_its_earliest_entries_across_many_batches(backend):
    index = backend.bound(CONFIG.replace(max_bucket_candidates=3))
    for b in range(5):
        with index.batch():
            index.add(make_batch(set_keys=[10 + b, 20 + b], band_keys=[[77], [b]], sets=[[b], [b + 100]],
                                 shingle_ref=[-1, -1], doc_ids=[f"d{b}"], doc_sizes=[2]))
    index = backend.open()
    len(index)
    assert _pairs(index, [[77]], 3) == [(0, 0), (0, 2), (0, 4)]
    assert _pairs(index, [[77], [77]], 2) == [(0, 0), (0, 2), (1, 0), (1, 2)]


def test_same_decisions_as_memory_on_real_text(backend):
    texts, ids = corpus(80, 80)
    expected = run(None, texts, ids, batch_paragraphs=500)
    assert sum(len(r[2]) for r in expected) > 100  # the sample has repeats to find
    assert run(backend.open(), texts, ids, batch_paragraphs=500) == expected


def test_continues_across_runs_as_one_run(backend):
    texts, ids = corpus(80, 80)
    expected = run(None, texts, ids)
    half = len(texts) // 2
    first = run(backend.open(), texts[:half], ids[:half], batch_paragraphs=700)
    second = run(backend.open(), texts[half:], ids[half:], batch_paragraphs=300)
    assert first + second == expected


def test_feeding_the_same_documents_again_replays_first_decisions(backend):
    texts, ids = corpus(60, 60)
    once = run(backend.open(), texts, ids, batch_paragraphs=400)
    n = len(backend.open())
    again = run(backend.open(), texts, ids, batch_paragraphs=900)
    assert again == once
    assert len(backend.open()) == n  # nothing indexed twice
    # a replayed document in a batch with new ones: still its first decisions
    mixed = run(backend.open(), [texts[5], "A new paragraph that nobody has written before, long enough."],
                [ids[5], "new"])
    assert mixed[0] == once[5]
    assert len(backend.open()) == n + 1
