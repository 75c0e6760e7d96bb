"""Every snippet in the README runs as written (as sqlite-utils' test_docs.py does for its docs).

Python blocks run in a fresh namespace and their printed output is checked where the README says
what it prints. Shell blocks run line by line with ``dedup`` on the PATH, in a directory that holds
the files they name (a small crawl, a dump, notes, a Parquet shard), so the commands a user copies
are the commands tested. ``pip install`` lines are left out: the suite runs on an installed package.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from snippets import blocks, is_install, run_python, shell_commands
from helpers import command_env

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = blocks(README)
PYTHON = [code for lang, code in BLOCKS if lang == "python"]


SHELL = [c for lang, code in BLOCKS if lang == "bash" for c in shell_commands(code)]


def _run_python(code: str, tmp_path: Path, monkeypatch) -> str:
    return run_python(code, tmp_path, "README.md")


def test_the_readme_has_snippets():
    assert len(PYTHON) >= 2 and len(SHELL) >= 6


def test_quick_start_prints_the_text_once_and_why(tmp_path, monkeypatch):
    block = next(code for code in PYTHON if "dedup.explain(text)" in code)
    out = _run_python(block, tmp_path, monkeypatch)
    assert out.count("Storm closes the harbour road.") == 1
    assert "The ferry to the islands runs as normal" in out
    assert out.rstrip().endswith("2 0 1.0 exact")  # paragraph 2 repeats paragraph 0, as the comment says


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_every_python_snippet_runs(index, tmp_path, monkeypatch):
    _run_python(PYTHON[index], tmp_path, monkeypatch)


def test_api_snippet_prints_what_its_comments_say(tmp_path, monkeypatch):
    block = next(code for code in PYTHON if "Deduplicator(threshold=0.8)" in code)
    out = _run_python(block, tmp_path, monkeypatch).splitlines()
    assert out[0] == "'Only in b.'"
    assert out[1] == "{'url': 'u1', 'text': 'Hello.'} 0"


def _workspace(tmp: Path) -> None:
    """The files the README's shell commands name, made of small synthetic documents."""
    shared = "Every package in this archive is shipped under the terms stated in its own licence file."
    docs = [{"url": f"https://example.org/{i}", "text": f"Page {i} has its own opening words about topic {i} "
             f"and nothing else in common.\n\n{shared}"} for i in range(6)]
    (tmp / "crawl").mkdir()
    (tmp / "crawl-next").mkdir()
    for part in range(2):
        with gzip.open(tmp / "crawl" / f"part-{part}.jsonl.gz", "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(d) + "\n" for d in docs[part * 3:part * 3 + 3])
    with gzip.open(tmp / "crawl-next" / "part-0.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"url": "https://example.org/new", "text": f"A new page.\n\n{shared}"}) + "\n")
    with gzip.open(tmp / "dump.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    (tmp / "notes").mkdir()
    (tmp / "notes" / "a.txt").write_text(f"A note.\n\n{shared}\n", encoding="utf-8")
    (tmp / "notes" / "b.txt").write_text(f"Another note.\n\n{shared}\n", encoding="utf-8")
    with open(tmp / "corpus.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    with open(tmp / "crawl.jsonl", "w", encoding="utf-8") as f:  # documents, one a copy of another
        f.writelines(json.dumps(d) + "\n" for d in docs + docs[:1])
    with open(tmp / "test_split.jsonl", "w", encoding="utf-8") as f:  # a benchmark with one item in corpus
        f.write(json.dumps({"text": shared}) + "\n")
    pa = pytest.importorskip("pyarrow", reason="pyarrow is in the test group")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"body": [d["text"] for d in docs]}), tmp / "shard.parquet")
    import csv

    with open(tmp / "pages.csv", "w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f)
        rows.writerow(["url", "body"])
        rows.writerows([d["url"], d["text"]] for d in docs)


def test_every_shell_command_runs(tmp_path):
    if shutil.which("dedup") is None:
        pytest.skip("the dedup command is not on PATH (pip install -e .)")
    _workspace(tmp_path)
    env = command_env()
    ran = 0
    for command in SHELL:
        if is_install(command):
            continue
        command = command.replace("examples/data/", f"{ROOT}/examples/data/")
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command!r} failed: {done.stderr[-2000:]}"
        ran += 1
    assert ran >= 6
    clean_next = [json.loads(line) for line in gzip.open(tmp_path / "clean-next" / "part-0.jsonl.gz", "rt")]
    assert clean_next[0]["text"] == "A new page.", "the second crawl did not see the first through the index"
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == ["part-0.jsonl.gz", "part-1.jsonl.gz"]
    assert (tmp_path / "audit.html").stat().st_size > 1000
    assert sorted(p.name for p in (tmp_path / "cleaned").iterdir()) == ["a.txt", "b.txt"]


def test_first_command_prints_the_article_once():
    command = next(c for c in SHELL if "news_pasted_twice" in c)
    done = subprocess.run([sys.executable, "-m", "dedup", command.split("dedup ", 1)[1].split()[0]],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    line = (ROOT / "examples" / "data" / "news_pasted_twice.txt").read_text(encoding="utf-8").rstrip("\n")
    article = line[:(len(line) - 1) // 2]
    assert done.stdout == article + "\n"
