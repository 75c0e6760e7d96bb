"""plan_run: the command line's paths to a plan, checked before a record is read, changing nothing."""

from __future__ import annotations

import os

import pytest

from dedup.errors import ConfigError, InputDataError
from dedup.io.plan import RunPlan, plan_run


def _files(tmp_path, *names):
    paths = []
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        paths.append(str(path))
    return paths


def test_one_output_for_all_inputs(tmp_path):
    inputs = _files(tmp_path, "a.jsonl", "b.jsonl.gz")
    given = list(inputs)
    plan = plan_run(inputs, str(tmp_path / "out.parquet"), report=str(tmp_path / "r.jsonl"))
    assert isinstance(plan, RunPlan) and inputs == given  # nothing it was given changes
    assert plan.outputs == (str(tmp_path / "out.parquet"),) and plan.formats == ("parquet",)
    assert not plan.per_shard and plan.output_of(1) == 0 and plan.reports == (str(tmp_path / "r.jsonl"),)
    assert [s.format for s in plan.sources] == ["jsonl", "jsonl"] and plan.directories == ()
    assert plan_run(inputs).outputs == ("-",)


def test_a_directory_gets_one_output_and_report_per_shard(tmp_path):
    inputs = _files(tmp_path, "in/part-0.jsonl.gz", "in/part-1.parquet", "in/notes.ndjson")
    out, rep = f"{tmp_path / 'out'}/", f"{tmp_path / 'rep'}/"
    plan = plan_run(inputs, out, report=rep)
    assert plan.per_shard and plan.per_shard_reports and plan.output_of(2) == 2 and plan.report_of(1) == 1
    assert [os.path.basename(p) for p in plan.outputs] == ["part-0.jsonl.gz", "part-1.parquet", "notes.ndjson"]
    assert plan.formats == ("jsonl", "parquet", "jsonl")
    assert [os.path.basename(p) for p in plan.reports] == ["part-0.jsonl.gz", "part-1.jsonl", "notes.jsonl"]
    assert plan.directories == (out, rep) and not os.path.exists(out)  # to be made by the run, not here
    zstd = plan_run(inputs, out, report=rep, compression="zstd")
    assert [os.path.basename(p) for p in zstd.outputs] == ["part-0.jsonl.zst", "part-1.parquet", "notes.ndjson.zst"]
    assert [os.path.basename(p) for p in zstd.reports] == ["part-0.jsonl.zst", "part-1.jsonl.zst", "notes.jsonl.zst"]


def test_mistakes_are_config_errors_before_anything_is_read(tmp_path):
    a, b = _files(tmp_path, "x/part-0.jsonl", "y/part-0.jsonl")
    with pytest.raises(ConfigError, match="would both write the output .*part-0.jsonl"):
        plan_run([a, b], f"{tmp_path / 'out'}/")
    with pytest.raises(ConfigError, match="would both write the report"):
        plan_run([a, b], str(tmp_path / "o.jsonl"), report=f"{tmp_path / 'rep'}/")
    with pytest.raises(ConfigError, match="refusing to write the output over the input"):
        plan_run([a], a)
    with pytest.raises(ConfigError, match="--compression applies to files written into a directory"):
        plan_run([a], str(tmp_path / "o.jsonl"), compression="gzip")
    with pytest.raises(ConfigError, match="several text inputs"):
        plan_run(_files(tmp_path, "t1.txt", "t2.txt"), str(tmp_path / "o.txt"))
    with pytest.raises(ConfigError, match="cannot mix text files"):
        plan_run([a, *_files(tmp_path, "t3.txt")], str(tmp_path / "o.jsonl"))
    with pytest.raises(ConfigError, match="an input path is empty"):
        plan_run([""])
    with pytest.raises(InputDataError, match="no such file"):
        plan_run([str(tmp_path / "missing.jsonl")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t1.txt", "t2.txt", "t3.txt", "x", "y"]  # nothing made
