"""The benchmarks are modules run as ``python -m benchmarks.NAME``: each listed in a group of
benchmarks/__init__.py, none edits ``sys.path`` (they import as the package they are), and no test
lives among them (tests are in tests/, benchmarks measure)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
MODULES = sorted(p.stem for p in BENCHMARKS.glob("*.py") if p.stem != "__init__")


def _listed() -> set:
    """The module names the groups of benchmarks/__init__.py's docstring list (indented lines)."""
    doc = ast.get_docstring(ast.parse((BENCHMARKS / "__init__.py").read_text(encoding="utf-8")), clean=False) or ""
    return {name for line in doc.splitlines() if line.startswith("    ")
            for name in re.findall(r"\w+", line)}


def test_every_benchmark_is_listed_in_a_group():
    assert set(MODULES) == _listed(), "benchmarks/__init__.py lists other modules than benchmarks/ holds"


def test_no_benchmark_edits_sys_path_or_is_a_test():
    for name in MODULES:
        assert not name.startswith("test_"), f"benchmarks/{name}.py is a test: it belongs in tests/"
        tree = ast.parse((BENCHMARKS / f"{name}.py").read_text(encoding="utf-8"))
        edits = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "path"
                 and isinstance(n.value, ast.Name) and n.value.id == "sys"]
        assert not edits, f"benchmarks/{name}.py reads or edits sys.path (lines {edits}): run it with -m"


def test_every_listed_runnable_benchmark_has_a_main():
    shared = {"_common", "corpus", "systems", "_label_kernels"}
    for name in set(MODULES) - shared:
        assert 'if __name__ == "__main__":' in (BENCHMARKS / f"{name}.py").read_text(encoding="utf-8"), name
