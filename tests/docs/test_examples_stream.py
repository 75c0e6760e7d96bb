"""The streaming examples run and do what they say."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import command_env, shared_data

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def _run(script, *args, timeout=300):
    env = command_env()
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_pipeline_jsonl_demo(tmp_path):
    stdout = _run("pipeline_jsonl.py")
    assert stdout.startswith("4 records in, 4 out, 3 paragraphs removed")


def test_pipeline_jsonl_on_the_debian_set(tmp_path):
    src = shared_data("docs_debian_copyright.jsonl.gz")
    stdout = _run("pipeline_jsonl.py", src, tmp_path, "doc_id")
    clean = [json.loads(x) for x in (tmp_path / "clean.jsonl").read_text(encoding="utf-8").splitlines()]
    report = [json.loads(x) for x in (tmp_path / "removed.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(clean) == 390 and stdout.startswith(f"390 records in, 390 out, {len(report)} paragraphs removed")
    assert list(clean[0]) == ["doc_id", "text", "meta", "doc_match", "is_doc_repeat", "paragraphs",
                              "dedup_text_keep_first", "source"]  # every field, in order
    assert all(r["text"] for r in report) and report[0]["doc_id"] == "debian/copyright/adduser"


def test_pandas_column_example():
    pytest.importorskip("pandas", reason="pandas is in the test dependency group; install it to run this")
    stdout = _run("pandas_column.py")
    lines = stdout.splitlines()
    assert "Prices include tax" in lines[1] and lines[1].rstrip().endswith("0")
    assert "Prices include tax" not in lines[2] and lines[2].rstrip().endswith("1")


@pytest.mark.skipif(importlib.util.find_spec("datasets") is None,
                    reason="the Hugging Face datasets package is not installed (pip install datasets)")
def test_hf_datasets_map_example():
    stdout = _run("hf_datasets_map.py")
    lines = stdout.splitlines()
    assert lines[0].endswith(" 0") and "newsroom" in lines[0]
    assert lines[1] == "'The city council approved the new budget late on Tuesday night.\\n' 1"
    assert lines[2] == "'A new bridge opens to traffic next week after three years of work.\\n' 1"
    assert lines[3] == "'' 1"
    assert lines[4] == "3 of 7 paragraphs removed"
