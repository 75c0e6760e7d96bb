"""Document ids: stable defaults (a rerun after a crash is safe), one identity on every backend."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dedup

PARAS = [f"Paragraph {i} of the crawl tells its own story, with words enough to count as one." for i in range(30)]


def _corpus(path: Path) -> None:
    with open(path, "w") as f:
        for i in range(60):  # each document: two paragraphs of its own, one shared with an earlier one
            text = "\n\n".join([PARAS[i % 30], f"Document {i} alone says this, in a sentence long enough to count.",
                                f"And document {i} closes with a line of its own that is long enough too."])
            f.write(json.dumps({"text": text}) + "\n")


def _run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(dedup.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "dedup", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_a_rerun_from_elsewhere_with_an_absolute_path_gives_the_same_output(tmp_path):
    # Without --id-field, ids used to be "<path as typed>:<line>": a rerun with another spelling
    # of the path made new ids, and every committed document then counted as seen (emptied).
    work = tmp_path / "work"
    work.mkdir()
    _corpus(work / "in.jsonl")
    first = _run(["in.jsonl", "-o", "out1.jsonl", "--index", "seen.dedup"], cwd=work)
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("warning: --index without --id-field") == 1
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    second = _run([str(work / "in.jsonl"), "-o", "out2.jsonl", "--index", str(work / "seen.dedup"), "-q"],
                  cwd=elsewhere)
    assert second.returncode == 0, second.stderr
    assert (elsewhere / "out2.jsonl").read_bytes() == (work / "out1.jsonl").read_bytes()
    assert second.stderr == ""  # -q: not even the warning


@pytest.mark.parametrize("option", ["--index", "-o", "--report"])
def test_an_empty_path_is_a_usage_error(option, tmp_path):
    _corpus(tmp_path / "in.jsonl")
    proc = _run(["in.jsonl", option, ""], cwd=tmp_path)
    assert proc.returncode == 2
    assert "the path is empty" in proc.stderr and proc.stderr.count("\n") == 1
