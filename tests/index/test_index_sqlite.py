"""SqliteIndex: persistence, crash safety (kill -9), two writer processes, errors, CLI."""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

import dedup
from dedup.cli.index import main as index_main
from dedup.index.codec import batch_of
from helpers import command_env
from index_support import corpus, decisions, make_batch, python_child, run

CONFIG = dedup.DedupConfig(scope="corpus")


def _bound(path, **kw):
    index = dedup.SqliteIndex(path, **kw)
    index.bind(CONFIG.fingerprint(), CONFIG.fingerprint_settings())
    return index


def _one(index, doc, key):
    index.add(make_batch(set_keys=[key], band_keys=[[key]], sets=[[key]], shingle_ref=[-1],
                         doc_ids=[doc], doc_sizes=[1]))


def test_string_and_path_specs_open_the_file(tmp_path):
    texts, ids = corpus(40, 0)
    expected = run(None, texts, ids)
    assert run(str(tmp_path / "a.dedup"), texts, ids) == expected
    assert run(tmp_path / "b.dedup", texts, ids) == expected
    assert isinstance(dedup.open_index(tmp_path / "b.dedup"), dedup.SqliteIndex)
    d = dedup.Deduplicator(index=str(tmp_path / "a.dedup"))
    assert isinstance(d.index, dedup.SqliteIndex) and len(d.index) > 0
    with pytest.raises(dedup.IndexMismatchError, match="0.9"):
        dedup.Deduplicator(index=str(tmp_path / "a.dedup"), threshold=0.9)
    with pytest.raises(dedup.ConfigError, match="unknown scheme"):
        dedup.open_index("ftp://example/x")


def test_open_index_binds_when_given_a_config(tmp_path):
    index = dedup.open_index(tmp_path / "x.dedup", CONFIG)
    assert index.info()["fingerprint"] == CONFIG.fingerprint()
    with pytest.raises(dedup.IndexMismatchError, match=f"index {tmp_path / 'x.dedup'} built with ngram=5, now ngram=3"):
        dedup.open_index(tmp_path / "x.dedup", CONFIG.replace(ngram=3))


def test_an_index_that_does_not_match_is_closed_again(tmp_path, monkeypatch):
    path = tmp_path / "x.dedup"
    dedup.open_index(path, CONFIG).close()
    closed = []
    real_close = dedup.SqliteIndex.close
    monkeypatch.setattr(dedup.SqliteIndex, "close", lambda self: closed.append(self) or real_close(self))
    with pytest.raises(dedup.IndexMismatchError):
        dedup.open_index(path, CONFIG.replace(ngram=3))
    with pytest.raises(dedup.IndexMismatchError):
        dedup.Deduplicator(index=path, ngram=3)
    assert len(closed) == 2
    for index in closed:  # the connection is really closed
        with pytest.raises(sqlite3.ProgrammingError):
            index._con.execute("SELECT 1")
    mine = dedup.SqliteIndex(path)
    with pytest.raises(dedup.IndexMismatchError):
        dedup.open_index(mine, CONFIG.replace(ngram=3))
    assert len(closed) == 2 and len(mine) == 0  # an index passed in stays open: it is the caller's


def test_a_failed_batch_stores_nothing(tmp_path):
    index = _bound(tmp_path / "i.dedup")
    with index.batch():
        _one(index, "a", 1)
    with pytest.raises(RuntimeError):
        with index.batch():
            _one(index, "late", 2)
            assert len(index) == 2
            raise RuntimeError("crash in the middle of a batch")
    assert len(index) == 1 and index.document("late") is None
    assert index.first_exact(np.array([2], dtype=np.uint64)).tolist() == [-1]
    with index.batch():
        _one(index, "b", 3)
    reopened = dedup.SqliteIndex(tmp_path / "i.dedup")
    assert len(reopened) == 2 and reopened.location(1).doc_id == "b"


def test_writer_waits_for_the_lock_then_gives_a_clear_error(tmp_path):
    path = tmp_path / "i.dedup"
    _bound(path)
    holder = sqlite3.connect(str(path), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    index = dedup.SqliteIndex(path, timeout=0.3)
    with pytest.raises(dedup.IndexBusyError, match="write lock"):
        with index.batch():
            pass
    holder.execute("ROLLBACK")
    with index.batch():
        _one(index, "a", 1)
    assert len(dedup.SqliteIndex(path)) == 1


def test_add_outside_a_batch_refuses_a_stale_view(tmp_path):
    path = tmp_path / "i.dedup"
    a, b = _bound(path), _bound(path)
    assert len(a) == 0 and len(b) == 0
    _one(a, "a", 1)
    with pytest.raises(dedup.IndexBusyError, match="another process added"):
        _one(b, "b", 2)  # b numbered its entry 0, but entry 0 exists now
    assert len(b) == 1  # len() reads the file again
    _one(b, "b", 2)
    assert [dedup.SqliteIndex(path).location(i).doc_id for i in range(2)] == ["a", "b"]


def test_not_an_index_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.dedup"
    junk.write_bytes(b"this is not an sqlite file at all, just some text " * 4)
    with pytest.raises(dedup.DedupError, match="not a dedup index"):
        dedup.SqliteIndex(junk)
    other = tmp_path / "other.db"
    con = sqlite3.connect(str(other))
    con.execute("CREATE TABLE t (x)")
    con.commit()
    with pytest.raises(dedup.DedupError, match="not a dedup index .tables: t"):
        dedup.SqliteIndex(other)
    with pytest.raises(dedup.DedupError, match="directory"):
        dedup.SqliteIndex(tmp_path)
    with pytest.raises(dedup.DedupError, match="not found"):
        dedup.SqliteIndex(tmp_path / "missing.dedup", create=False)


def test_unstorable_doc_id_is_refused(tmp_path):
    index = _bound(tmp_path / "i.dedup")
    with pytest.raises(dedup.InputTypeError, match="frozenset"):
        _one(index, frozenset({1}), 1)


def test_pickles_by_path(tmp_path):
    texts, ids = corpus(30, 0)
    d = dedup.Deduplicator(index=tmp_path / "i.dedup")
    first = decisions(d.dedupe_many(texts[:15], ids[:15]))
    clone = pickle.loads(pickle.dumps(d))
    assert isinstance(clone.index, dedup.SqliteIndex) and len(clone.index) == len(d.index)
    assert first + decisions(clone.dedupe_many(texts[15:], ids[15:])) == run(None, texts, ids)


def test_info_and_cli(tmp_path):
    path = tmp_path / "i.dedup"
    texts, ids = corpus(30, 30)
    run(path, texts, ids)
    info = dedup.SqliteIndex(path).info()
    n_paragraphs = sum(len(dedup.split_paragraphs(t)[0]) for t in texts)
    assert info["paragraphs"] == n_paragraphs and info["documents"] == 60
    assert info["settings"] == CONFIG.fingerprint_settings() and info["size_bytes"] > 0
    out, err = io.StringIO(), io.StringIO()
    assert index_main(["info", str(path)], stdout=out, stderr=err) == 0
    text = out.getvalue()
    assert f"paragraphs   {n_paragraphs:,}" in text and "documents    60" in text and "threshold=0.8" in text
    out = io.StringIO()
    assert index_main(["info", str(path), "--json"], stdout=out) == 0
    assert json.loads(out.getvalue())["paragraphs"] == n_paragraphs
    err = io.StringIO()
    assert index_main(["info", str(tmp_path / "nope.dedup")], stderr=err) == 1
    assert "not found" in err.getvalue() and not (tmp_path / "nope.dedup").exists()
    proc = python_child("import sys; from dedup.cli.index import main; sys.exit(main())", "info", str(path),
                        stdout=subprocess.PIPE, text=True)
    assert proc.wait(timeout=60) == 0 and f"{n_paragraphs:,}" in proc.stdout.read()
    proc = subprocess.run([sys.executable, "-m", "dedup.cli.index", "info", str(path)], capture_output=True,
                          text=True, env=command_env())
    assert proc.returncode == 0 and "fingerprint" in proc.stdout


# -- real processes --------------------------------------------------------------------

_WRITER = r"""
import json, sys, time
import dedup
from index_support import corpus
path, out, which, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
texts, ids = corpus(120, 150)
if which == "even":
    texts, ids = texts[0::2], ids[0::2]
elif which == "odd":
    texts, ids = texts[1::2], ids[1::2]
d = dedup.Deduplicator(index=path, batch_paragraphs=batch)
if which in ("even", "odd"):  # start writing together (not while the other is still importing)
    import os
    open(path + "." + which + ".ready", "w").close()
    other = path + "." + ("odd" if which == "even" else "even") + ".ready"
    deadline = time.time() + 120
    while not os.path.exists(other) and time.time() < deadline:
        time.sleep(0.01)
if len(sys.argv) > 5:  # slow down inside the transaction and say when, so the parent can kill us there
    n_adds = [0]
    def slowed(real):  # add (the batch path) or persist_added (the engine's)
        def add(b):
            real(b)
            n_adds[0] += 1
            print("ADDED", n_adds[0], flush=True)
            time.sleep(0.3)
        return add
    d.index.add = slowed(d.index.add)
    d.index.persist_added = slowed(d.index.persist_added)
with open(out, "w") as f:
    for r in d.iter_dedupe(texts, ids):
        f.write(json.dumps([r.doc_id, r.text, [x.to_dict() for x in r.removed]]) + "\n")
        f.flush()
        if which in ("even", "odd"):  # a pause outside the write lock: on a busy machine a writer
            time.sleep(0.01)          # that never pauses can take every batch before the other polls
"""


def _read(path):
    return [tuple(json.loads(line)) for line in open(path)]


def test_kill_9_mid_batch_then_restart_gives_the_uninterrupted_output(tmp_path):
    path, out = tmp_path / "i.dedup", tmp_path / "out.jsonl"
    texts, ids = corpus(120, 150)
    expected = [tuple(x) for x in run(None, texts, ids)]
    child = python_child(_WRITER, str(path), str(out), "all", "40", "slow", stdout=subprocess.PIPE, text=True)
    for line in child.stdout:  # kill it inside the 4th batch transaction: rows written, not committed
        if line.strip() == "ADDED 4":
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    con = sqlite3.connect(str(path))
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    index = dedup.SqliteIndex(path)
    kept = len(index)
    assert 0 < kept < sum(len(dedup.split_paragraphs(t)[0]) for t in texts)
    assert index.info()["documents"] < len(texts)
    restart = python_child(_WRITER, str(path), str(out), "all", "40")
    assert restart.wait(timeout=300) == 0
    assert _read(out) == expected


def test_two_processes_writing_one_file_take_turns(tmp_path):
    corpus(1, 1)  # the workers read the shared corpora: skip (fail in CI) here if they are missing
    path = tmp_path / "i.dedup"
    outs = [tmp_path / "even.jsonl", tmp_path / "odd.jsonl"]
    procs = [python_child(_WRITER, str(path), str(o), which, "20") for o, which in zip(outs, ["even", "odd"])]
    assert [p.wait(timeout=600) for p in procs] == [0, 0]
    got = {r[0]: r for o in outs for r in _read(o)}
    texts, ids = corpus(120, 150)
    assert sorted(got) == sorted(ids)
    index = dedup.SqliteIndex(path)
    # No lost entries: every paragraph of both writers is indexed once.
    assert len(index) == sum(len(dedup.split_paragraphs(t)[0]) for t in texts)
    # The writers took turns: their decisions are those of one writer fed the documents in
    # the order the batches committed (batching never changes decisions).
    order = [i for (data,) in index._con.execute("SELECT data FROM batches ORDER BY seq") for i in batch_of(data).doc_ids]
    assert sorted(order) == sorted(ids)
    even = set(ids[0::2])
    assert any(a in even and b not in even for a, b in zip(order, order[1:]))  # they interleaved
    by_id = dict(zip(ids, texts))
    sequential = run(None, [by_id[i] for i in order], order)
    assert [got[i] for i in order] == [tuple(x) for x in sequential]
    # So no duplicate is kept twice: the kept paragraphs (above min_tokens) have distinct sets.
    kept = []
    for doc_id in order:
        text, removed = by_id[doc_id], {x["index"] for x in got[doc_id][2]}
        starts, ends = dedup.split_paragraphs(text)
        kept += [text[a:b] for i, (a, b) in enumerate(zip(starts, ends)) if i not in removed]
    sets = dedup.shingle_sets(kept)
    long_keys = sets.set_keys[sets.n_tokens >= CONFIG.min_tokens]
    assert len(long_keys) > 1000 and len(np.unique(long_keys)) == len(long_keys)


def test_a_reader_opened_before_the_settings_were_stored_reads_what_the_writer_adds(tmp_path):
    """The race a reader meets beside a starting writer: the file has its tables but no settings
    yet when the reader opens it; by its first query the writer has stored them and a batch."""
    path = str(tmp_path / "i.dedup")
    writer = dedup.SqliteIndex(path)  # the tables, no settings
    reader = dedup.SqliteIndex(path, read_only=True)
    text = "A paragraph long enough to be stored in the index today, and found again."
    dedup.Deduplicator(index=writer).dedupe(text, doc_id="a")
    (removal,) = dedup.Deduplicator(index=reader, read_only=True).dedupe(text, doc_id="b").removed
    assert (removal.matched_doc_id, removal.reason) == ("a", "exact")
    reader.close()
    writer.close()
