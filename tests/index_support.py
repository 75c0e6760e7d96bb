"""Shared helpers for the index tests: a real redis-server on loopback, corpus loading, runs."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from helpers import command_env, shared_data
import pytest

import dedup
from dedup.index.base import IndexBatch

REPO = Path(__file__).resolve().parents[1]


def load_docs(name: str) -> list:
    with gzip.open(shared_data(name), "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def corpus(n_debian: int = 120, n_kjv: int = 150) -> Tuple[List[str], List[str]]:
    """Texts and doc ids: Debian copyright files (boilerplate repeats) then KJV chapters."""
    docs = load_docs("docs_debian_copyright.jsonl.gz")[:n_debian] + load_docs("docs_kjv_chapters.jsonl.gz")[:n_kjv]
    return [d["text"] for d in docs], [str(d["doc_id"]) for d in docs]


def decisions(results) -> list:
    """What a run decided, comparable across indexes: output text and every removal."""
    return [(r.doc_id, r.text, [x.to_dict() for x in r.removed]) for r in results]


def run(index, texts, doc_ids, **overrides) -> list:
    return decisions(dedup.Deduplicator(index=index, **overrides).dedupe_many(texts, doc_ids))


def key_of(shingles) -> int:
    """The set key the library gives this shingle set (an index may recompute keys from sets)."""
    from dedup.fingerprint.shingles import set_keys as _set_keys

    return int(_set_keys(np.array(shingles, dtype=np.uint32), np.array([0, len(shingles)]))[0])


def make_batch(set_keys, band_keys, sets, shingle_ref, doc_ids, doc_sizes, starts=None) -> IndexBatch:
    """An IndexBatch from Python lists (tests build entries by hand).

    ``set_keys`` are labels only: each entry gets the real key of its set (of the set it
    refers to, for an exact repeat), as the library would give it.
    """
    n = len(set_keys)
    real_sets = [sets[r] if r >= 0 and r < n and not sets[i] else sets[i] for i, r in enumerate(shingle_ref)]
    labels = dict(zip(set_keys, real_sets))
    set_keys = [key_of(labels[k]) if k in labels and labels[k] else key_of(s) for k, s in zip(set_keys, real_sets)]
    lengths = [len(s) for s in sets]
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    para = np.concatenate([np.arange(s, dtype=np.int64) for s in doc_sizes]) if n else np.zeros(0, np.int64)
    starts = np.array(starts if starts is not None else [10 * i for i in range(n)], dtype=np.int64)
    return IndexBatch(
        set_keys=np.array(set_keys, dtype=np.uint64),
        band_keys=np.array(band_keys, dtype=np.uint64).reshape(n, -1),
        hashes=np.concatenate([np.array(s, dtype=np.uint32) for s in sets]) if n else np.zeros(0, np.uint32),
        offsets=offsets,
        shingle_ref=np.array(shingle_ref, dtype=np.int64),
        doc_ids=list(doc_ids),
        doc_sizes=np.array(doc_sizes, dtype=np.int64),
        para_index=para,
        starts=starts,
        ends=starts + 5,
    )


# -- a real redis-server on a loopback port --------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_missing() -> Optional[str]:
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (Debian: apt-get install -y redis-server)"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "the redis package is not installed (pip install -e '.[redis]')"
    return None


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """URL of a redis-server started for the tests (127.0.0.1 only, no persistence).

    Missing server or client: the tests fail under CI=true, and skip (saying why) elsewhere.
    """
    why = _redis_missing()
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis tests cannot run in CI: {why}")
        pytest.skip(why)
    import redis
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"redis-server did not start on 127.0.0.1:{port}")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


def redis_client(url: str):
    import redis
    return redis.Redis.from_url(url)


def fresh_prefix() -> str:
    return f"test-{uuid.uuid4().hex[:10]}:"


def python_child(script: str, *args: str, **popen) -> subprocess.Popen:
    """Start ``python -c script args`` with this checkout's dedup importable."""
    return subprocess.Popen([sys.executable, "-c", script, *args], env=command_env(also_importable=[REPO / "tests"]),
                            **popen)
