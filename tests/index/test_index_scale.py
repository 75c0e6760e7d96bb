"""Scale check of the SQLite index (slow): same decisions as memory, throughput within 2x."""

from __future__ import annotations

import sys

import pytest

from index_support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))


@pytest.mark.slow
def test_sqlite_index_at_200k_paragraphs(tmp_path):
    import index_scale
    import dedup

    texts, ids = index_scale.scaled_corpus(200_000)
    memory = index_scale.measure(dedup.MemoryIndex(), texts, ids, 8192)  # the engine's own store
    sqlite = index_scale.measure(dedup.SqliteIndex(tmp_path / "scale.dedup"), texts, ids, 8192)
    assert sqlite["decisions_hash"] == memory["decisions_hash"] and sqlite["removed"] > 10_000
    ratio = sqlite["cpu_seconds"] / memory["cpu_seconds"]  # CPU time: less noisy on a shared machine
    print(f"memory {memory['paragraphs_per_s']}/s, sqlite {sqlite['paragraphs_per_s']}/s, ratio {ratio:.2f}")
    assert ratio < 2.0
