"""A Deduplicator copied into another process (pickled, forked) never silently deduplicates a share
of the documents on its own; the parallel route (workers=N in one process) gives one pass's result."""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import dedup
from dedup.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [f"Record {i} opens with words of its own, enough of them to count.\n\n"
         "A closing notice that every record repeats, long enough to be removed each time." for i in range(40)]


def _use_copy(d: dedup.Deduplicator):
    """In a worker process: the outcome of using the copy there (an error message, or the texts)."""
    try:
        return [r.text for r in d.dedupe_many(TEXTS[10:20], range(10, 20))]
    except dedup.DedupError as exc:
        return str(exc)


def _in_a_worker(d: dedup.Deduplicator):
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(_use_copy, (d,))


def test_a_copy_of_an_in_memory_index_refuses_to_write_in_another_process_while_its_maker_runs():
    for d in (dedup.Deduplicator(), dedup.Deduplicator(exact_only=True)):
        d.dedupe_many(TEXTS[:10], range(10))
        got = _in_a_worker(d)
        assert isinstance(got, str) and "made in process" in got and "workers=N" in got, got


def test_copies_that_cannot_diverge_work_in_another_process(tmp_path):
    one_pass = [r.text for r in dedup.Deduplicator().dedupe_many(TEXTS, range(40))]
    shared = dedup.Deduplicator(index=str(tmp_path / "shared.dedup"))  # processes take turns on one file
    shared.dedupe_many(TEXTS[:10], range(10))
    assert _in_a_worker(shared) == one_pass[10:20]
    reader = dedup.Deduplicator(index=str(tmp_path / "shared.dedup"), read_only=True)  # adds nothing
    assert _in_a_worker(reader) == [r.text for r in reader.dedupe_many(TEXTS[10:20], range(10, 20))]
    assert _in_a_worker(dedup.Deduplicator(scope="document")) == TEXTS[10:20]  # no state across documents


def test_a_pickle_read_back_after_its_maker_ended_carries_on(tmp_path):
    script = (f"import pickle, dedup, sys; sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
              "from test_processes import TEXTS\n"
              "d = dedup.Deduplicator(); d.dedupe_many(TEXTS[:10], range(10))\n"
              f"open({str(tmp_path / 'd.pickle')!r}, 'wb').write(pickle.dumps(d))\n")
    subprocess.run([sys.executable, "-c", script], check=True, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    d = pickle.loads((tmp_path / "d.pickle").read_bytes())  # made in a process that has ended
    assert [r.text for r in d.dedupe_many(TEXTS[10:], range(10, 40))] == \
        [r.text for r in dedup.Deduplicator().dedupe_many(TEXTS, range(40))][10:]


@pytest.mark.skipif(importlib.util.find_spec("datasets") is None, reason="the datasets package is not installed")
def test_hf_datasets_map_in_parallel_refuses_and_the_workers_route_gives_the_one_pass_result(tmp_path):
    from datasets import Dataset

    from conftest import load_docs
    docs = load_docs("docs_debian_copyright.jsonl.gz")[:120]
    ds = Dataset.from_list([{"text": d["text"]} for d in docs])
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"row": i, "text": d["text"]}) + "\n" for i, d in enumerate(docs)))
    assert cli_main([str(src), "--id-field", "row", "-o", str(tmp_path / "out.jsonl"), "-q"]) == 0
    cli = [json.loads(line)["text"] for line in (tmp_path / "out.jsonl").read_text().splitlines()]

    def mapped(deduplicator, **options):
        def clean(batch, indices):
            records = ({"text": t, "row": i} for t, i in zip(batch["text"], indices))
            return {"text": [r.text for r in dedup.dedupe_stream(records, id_field="row", deduplicator=deduplicator)]}
        return ds.map(clean, batched=True, batch_size=16, with_indices=True, load_from_cache_file=False,
                      **options)["text"]

    assert mapped(dedup.Deduplicator(workers=2)) == mapped(dedup.Deduplicator()) == cli
    assert sum(a != b["text"] for a, b in zip(cli, docs)) > 50
    with pytest.raises(dedup.DedupError, match="made in process"):
        mapped(dedup.Deduplicator(), num_proc=2)
