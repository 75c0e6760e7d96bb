"""Every example runs, and does what it says."""

import runpy
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_seed_article_example(seed_text):
    ns = runpy.run_path(str(EXAMPLES / "seed_article.py"))
    assert ns["main"]() == seed_text.split("\n")[0]


def test_seed_article_example_as_a_script(seed_text):
    out = subprocess.run([sys.executable, str(EXAMPLES / "seed_article.py")], capture_output=True,
                         text=True, check=True)
    assert out.stdout == seed_text.split("\n")[0] + "\n"
    assert "removed paragraph 1" in out.stderr


def test_corpus_scope_example():
    ns = runpy.run_path(str(EXAMPLES / "corpus_scope.py"))
    out = ns["main"]()
    assert ns["LICENCE"] in out["pkg-a"]
    assert "Permission" not in out["pkg-b"]  # a near-duplicate (one word changed in 30)
    assert out["pkg-c"] == "pkg-c renders charts to PNG and SVG from the command line.\n"
