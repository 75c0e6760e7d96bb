"""RedisIndex: the guarantee for several workers, URL specs, the missing extra."""

from __future__ import annotations

import io
import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

import dedup
from dedup.cli.index import main as index_main
import index_support
from index_support import corpus, decisions, fresh_prefix, python_child, redis_client, run  # noqa: F401

redis_url = index_support.redis_url  # the fixture (a plain name: test arguments may take it)

LONG = "The same notice appears here in several documents written by different people today."


def test_missing_redis_package_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis -> ImportError
    with pytest.raises(dedup.MissingDependencyError, match=r"pip install -e '\.\[redis\]'"):
        dedup.open_index("redis://127.0.0.1:6379/0")
    with pytest.raises(ImportError):
        dedup.RedisIndex(object())


def test_url_spec_with_prefix(redis_url):
    prefix = fresh_prefix()
    texts, ids = corpus(40, 20)
    expected = run(None, texts, ids)
    assert run(f"{redis_url}?prefix={prefix}", texts, ids) == expected
    index = dedup.open_index(f"{redis_url}?prefix={prefix}")
    assert isinstance(index, dedup.RedisIndex) and index.prefix == prefix
    assert index.info()["paragraphs"] == len(index) > 0
    other = dedup.open_index(f"{redis_url}?prefix={fresh_prefix()}")
    assert len(other) == 0  # prefixes keep corpora apart
    out = io.StringIO()
    assert index_main(["info", f"{redis_url}?prefix={prefix}", "--json"], stdout=out) == 0
    assert json.loads(out.getvalue())["paragraphs"] == len(index)


def test_overlapping_batches_of_two_workers_may_both_keep_a_copy(redis_url):
    prefix = fresh_prefix()
    a = dedup.Deduplicator(index=dedup.RedisIndex(redis_client(redis_url), prefix))
    b = dedup.Deduplicator(index=dedup.RedisIndex(redis_client(redis_url), prefix))
    with a.index.batch():  # worker A's batch begins: it decides against the index as of now
        rb = b.dedupe(f"{LONG}\n\nWorker B's own words, which nobody repeats anywhere else.", "b")
        ra = a.dedupe(f"{LONG}\n\n{LONG}", "a")
    assert rb.removed == []
    assert [x.index for x in ra.removed] == [1]  # A still sees its own batch...
    assert ra.removed[0].matched_doc_id == "a"  # ...but not B's commit: both keep a copy
    # Both batches are stored whole; B committed first, so B holds the smaller ids.
    index = dedup.RedisIndex(redis_client(redis_url), prefix)
    assert len(index) == 4
    assert index.document("b") == (0, 2) and index.document("a") == (2, 2)
    assert index.shingles(3).tolist() == index.shingles(0).tolist()  # A's exact repeat -> its own copy
    # First committed writer wins the set key: every later copy matches B's.
    rc = b.dedupe(LONG, "c")
    assert [(x.matched_doc_id, x.matched_index, x.reason) for x in rc.removed] == [("b", 0, "exact")]
    # Batches that do not overlap see each other: no second copy is kept.
    rd = a.dedupe("Worker B's own words, which nobody repeats anywhere else.", "d")
    assert [(x.matched_doc_id, x.reason) for x in rd.removed] == [("b", "exact")]


def test_near_duplicates_racing(redis_url):
    prefix = fresh_prefix()
    a = dedup.Deduplicator(index=dedup.RedisIndex(redis_client(redis_url), prefix))
    b = dedup.Deduplicator(index=dedup.RedisIndex(redis_client(redis_url), prefix))
    text = " ".join(f"word{i}" for i in range(60))
    with a.index.batch():
        assert b.dedupe(text + " end", "b").removed == []
        assert a.dedupe(text + " stop", "a").removed == []  # B's copy is not visible to A's batch
    index = dedup.RedisIndex(redis_client(redis_url), prefix)
    assert len(index) == 2 and index.document("b") == (0, 1) and index.document("a") == (1, 1)
    # Both copies are candidates for a later paragraph (verified in the usual order).
    later = b.dedupe(text + " finish", "c")
    assert [(x.matched_doc_id in ("a", "b"), x.reason) for x in later.removed] == [(True, "near")]


_WORKER = r"""
import sys, json
import dedup, redis
url, prefix, which = sys.argv[1], sys.argv[2], sys.argv[3]
from index_support import corpus
texts, ids = corpus(120, 150)
texts, ids = (texts[0::2], ids[0::2]) if which == "even" else (texts[1::2], ids[1::2])
d = dedup.Deduplicator(index=dedup.RedisIndex(redis.Redis.from_url(url), prefix), batch_paragraphs=150)
n = sum(1 for _ in d.iter_dedupe(texts, ids))
print(n)
"""


def test_two_worker_processes_lose_nothing(redis_url):
    corpus(1, 1)  # the workers read the shared corpora: skip (fail in CI) here if they are missing
    prefix = fresh_prefix()
    procs = [python_child(_WORKER, redis_url, prefix, w, stdout=subprocess.PIPE, text=True) for w in ("even", "odd")]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    texts, ids = corpus(120, 150)
    client = redis_client(redis_url)
    index = dedup.RedisIndex(client, prefix)
    total = sum(len(dedup.split_paragraphs(t)[0]) for t in texts)
    assert len(index) == total == client.hlen(f"{prefix}entries")  # every id used once, none lost
    first_ids = sorted(index.document(i)[0] for i in ids)  # every document stored once, whole
    sizes = {index.document(i)[0]: index.document(i)[1] for i in ids}
    assert all(a + sizes[a] <= b for a, b in zip(first_ids, first_ids[1:]))
    # Each set key is held by the smallest id with that set.
    keys = index.entry_set_keys(np.arange(total))
    refs = np.frombuffer(b"".join(client.hmget(f"{prefix}entries", list(range(total)))),
                         dtype=[("k", "<u8"), ("ref", "<i8"), ("x", "<i8", 4)])["ref"]
    stored = np.flatnonzero(refs < 0)
    _, first_pos = np.unique(keys[stored], return_index=True)
    smallest = stored[first_pos]
    assert index.first_exact(keys[smallest]).tolist() == smallest.tolist()
    # A single later pass over everything is a pure replay: every document is known.
    again = run(dedup.RedisIndex(client, prefix), texts, ids)
    assert len(dedup.RedisIndex(client, prefix)) == total and len(again) == len(texts)


def test_pickles_as_connection_settings(redis_url):
    prefix = fresh_prefix()
    texts, ids = corpus(30, 0)
    d = dedup.Deduplicator(index=dedup.RedisIndex(redis_client(redis_url), prefix))
    first = decisions(d.dedupe_many(texts[:15], ids[:15]))
    clone = pickle.loads(pickle.dumps(d))
    assert isinstance(clone.index, dedup.RedisIndex) and clone.index.prefix == prefix
    assert first + decisions(clone.dedupe_many(texts[15:], ids[15:])) == run(None, texts, ids)
