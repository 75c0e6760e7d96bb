"""exact_only=True: exact repeats only, a few bytes per paragraph, the same exact decisions."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

import dedup
from helpers import shared_data
from dedup.index.exact import ExactIndex, keys_digest


def _debian(n: int) -> list:
    with gzip.open(shared_data("docs_debian_copyright.jsonl.gz"), "rt") as f:
        return [json.loads(line)["text"] for _, line in zip(range(n), f)]


def _exact_removals(results) -> set:
    return {(r.doc_id, x.index) for r in results for x in r.removed if x.reason == "exact"}


def test_exact_decisions_equal_the_full_index_and_cost_a_few_bytes():
    texts = _debian(3000)
    full = dedup.Deduplicator()
    exact = dedup.Deduplicator(exact_only=True)
    full_results = full.dedupe_many(texts, range(len(texts)))
    exact_results = exact.dedupe_many(texts, range(len(texts)))
    assert not exact.index.stores_shingles  # set keys only (an ExactIndex, or the compiled store's lean form)
    assert _exact_removals(exact_results) == _exact_removals(full_results) != set()
    assert all(x.reason in ("exact", "run", "inner") for r in exact_results for x in r.removed)
    per_paragraph = exact.index.nbytes / len(exact.index)
    assert per_paragraph < 40 < full.index.nbytes / len(full.index) / 5  # issue 28: exact-only <= 40 B
    loc = exact.index.location(exact_results[5].removed[0].matched_index) if exact_results[5].removed else None
    assert loc is None or loc.start == loc.end == 0


@pytest.mark.parametrize("batch", [16, 8192])
def test_batch_size_never_changes_exact_decisions(batch):
    texts = _debian(600)
    base = [r.text for r in dedup.Deduplicator(exact_only=True).dedupe_many(texts)]
    assert [r.text for r in dedup.Deduplicator(exact_only=True, batch_paragraphs=batch).dedupe_many(texts)] == base


def test_a_document_fed_again_replays_and_an_edited_one_does_not():
    a = "A paragraph long enough to be a unit on its own here.\n\nAnother one, with words enough too."
    d = dedup.Deduplicator(exact_only=True)
    assert d.dedupe(a, "x").text == a
    assert d.dedupe(a, "x").text == a and d.stats.documents_replayed == 1
    assert d.dedupe(a + "\n\nA third paragraph of its own, long enough.", "x").text == "A third paragraph of its own, long enough."
    assert keys_digest(np.array([1, 2], dtype=np.uint64)) != keys_digest(np.array([2, 1], dtype=np.uint64))


def test_near_duplicates_are_not_looked_for():
    a = ("The council shut the harbour road at dawn after waves broke over the old sea wall, and it will stay "
         "shut until the tide turns this evening, the harbour master told reporters at the ferry office today.")
    b = a.replace("today.", "on Monday.")
    assert dedup.Deduplicator().dedupe_many([a, b])[1].text == ""  # near: removed by the full run
    assert dedup.Deduplicator(exact_only=True).dedupe_many([a, b])[1].text == b


def test_exact_only_is_part_of_the_index_settings_and_the_cli(tmp_path):
    path = tmp_path / "x.dedup"
    with dedup.SqliteIndex(path) as index:
        dedup.Deduplicator(index=index, exact_only=True).dedupe("Words enough to make one paragraph count.", 1)
    with pytest.raises(dedup.IndexMismatchError, match="exact_only"):
        dedup.Deduplicator(index=str(path))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}) + "\n" for t in _debian(200)))
    from dedup.cli import main
    assert main([str(src), "-o", str(tmp_path / "out.jsonl"), "--exact-only", "-q"]) == 0
    want = [r.text for r in dedup.Deduplicator(exact_only=True).dedupe_many(_debian(200))]
    assert [json.loads(x)["text"] for x in (tmp_path / "out.jsonl").read_text().splitlines()] == want
