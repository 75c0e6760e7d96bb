"""Every example runs, and does what it says."""

import runpy
import subprocess
import sys
from pathlib import Path

from helpers import shared_data

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _first_copy(doubled: str) -> str:
    """The article once (and the line end): the doubled line is the article, a space, the article again."""
    line = doubled.rstrip("\n")
    half = (len(line) - 1) // 2
    assert line[:half] == line[half + 1:] and line[half] == " "
    return line[:half] + "\n"


def test_seed_article_example(example_text):
    ns = runpy.run_path(str(EXAMPLES / "seed_article.py"))
    assert ns["main"]() == _first_copy(example_text)


def test_seed_article_example_as_a_script(example_text):
    out = subprocess.run([sys.executable, str(EXAMPLES / "seed_article.py")], capture_output=True,
                         text=True, check=True)
    assert out.stdout == _first_copy(example_text)
    assert "removed" in out.stderr


def test_seed_article_example_on_the_shared_seed(seed_text):
    ns = runpy.run_path(str(EXAMPLES / "seed_article.py"))
    assert ns["main"](Path(shared_data("seed_news_doubled.txt"))) == seed_text.split("\n")[0]


def test_corpus_scope_example():
    ns = runpy.run_path(str(EXAMPLES / "corpus_scope.py"))
    out = ns["main"]()
    assert ns["LICENCE"] in out["pkg-a"]
    assert "Permission" not in out["pkg-b"]  # a near-duplicate (one word changed in 30)
    assert out["pkg-c"] == "pkg-c renders charts to PNG and SVG from the command line.\n"


def test_decontaminate_example():
    proc = subprocess.run([sys.executable, str(EXAMPLES / "decontaminate.py")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("forum/1 paragraph 1: geo-1 ") and "containment 1.00" in lines[0]
    assert lines[1].startswith("homework/3 paragraph 0: math-1 (similarity 1.00")
    assert lines[-1] == "2 of 3 documents contain benchmark items"
