"""Deduplicator(workers=N): the same decisions for every N, on the goldens and through the CLI."""

from __future__ import annotations

import json

import pytest

import dedup
import speed_golden as golden
from dedup.accel import jit
from dedup.cli import main as cli_main


def _as_json(x):
    return json.loads(json.dumps(x))


@pytest.mark.parametrize("name", list(golden.SETS))
@pytest.mark.parametrize("workers", [2, 4])
def test_goldens_for_every_worker_count(name, workers):
    docs = golden.load_docs(name)
    gold = golden.load_golden(name)
    assert _as_json(golden.decisions(docs, workers=workers, batch_paragraphs=997)) == gold["corpus"]


@pytest.mark.parametrize("enabled", [True, False] if jit.jit_available() else [False])
def test_numpy_and_kernel_paths_agree_with_workers(enabled):
    docs = golden.load_docs("kjv")[:300]
    with jit.use_jit(enabled):
        one = golden.decisions(docs, batch_paragraphs=500)
        four = golden.decisions(docs, batch_paragraphs=500, workers=4)
    assert one == four


def test_a_bad_document_comes_after_every_result_before_it_with_workers():
    good = [f"Document {i} has a paragraph of its own, long enough to count for sure." for i in range(3000)]
    d = dedup.Deduplicator(workers=3, batch_paragraphs=256)
    out = []
    with pytest.raises(dedup.InputTypeError, match="document 3000"):
        for r in d.iter_dedupe(good + [None] + good):
            out.append(r.text)
    assert out == good and d.stats.documents == 3000


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_bad_worker_counts_are_refused(bad):
    with pytest.raises(dedup.ConfigError, match="workers"):
        dedup.Deduplicator(workers=bad)


def test_cli_output_is_the_same_for_every_worker_count(tmp_path):
    docs = golden.load_docs("debian")[:400]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": d["doc_id"], "text": d["text"]}) + "\n" for d in docs))
    outs = []
    for n in (1, 2, 4):
        assert cli_main([str(src), "--id-field", "id", "-o", str(tmp_path / f"o{n}.jsonl"), "--report",
                         str(tmp_path / f"r{n}.jsonl"), "--workers", str(n), "-q"]) == 0
        outs.append(((tmp_path / f"o{n}.jsonl").read_bytes(), (tmp_path / f"r{n}.jsonl").read_bytes()))
    assert outs[0] == outs[1] == outs[2]
    stream = [r.record for r in dedup.dedupe_stream([d["text"] for d in docs], workers=2)]
    assert stream == [r.text for r in dedup.Deduplicator().dedupe_many([d["text"] for d in docs])]
