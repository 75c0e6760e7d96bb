"""Rules of the test suite itself, read from its source.

The README's test command must pass on a busy 2-core machine, so the default suite asserts no
wall-clock or CPU time (a ratio of two timings failed on a loaded machine): a function that
reads a clock to measure (``time.perf_counter``, ``process_time``, ``thread_time``) is a slow
test, or a helper that only slow tests call. Speed is measured in ``benchmarks/``; the default
suite asserts counted work instead.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

TESTS = Path(__file__).resolve().parent
CLOCKS = {"perf_counter", "process_time", "thread_time", "perf_counter_ns", "process_time_ns"}


def _is_slow(node: ast.AST) -> bool:
    return any("slow" in ast.unparse(d) for d in getattr(node, "decorator_list", []))


def _reads_a_clock(node: ast.AST) -> bool:
    """A clock read in the function, or in code it hands a child process as a string."""
    return any((isinstance(n, ast.Attribute) and n.attr in CLOCKS)
               or (isinstance(n, ast.Constant) and isinstance(n.value, str)
                   and any(f"{clock}()" in n.value for clock in CLOCKS))
               for n in ast.walk(node))


def _callers(tree: ast.Module) -> Dict[str, Set[str]]:
    """Function name -> the functions whose bodies name it."""
    named: Dict[str, Set[str]] = {}
    for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        for n in ast.walk(fn):
            if isinstance(n, ast.Name) and n.id != fn.name:
                named.setdefault(n.id, set()).add(fn.name)
    return named


def test_the_default_suite_asserts_no_time():
    offenders: List[str] = []
    for path in sorted(TESTS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        callers = _callers(tree)
        for name, fn in functions.items():
            if not _reads_a_clock(fn) or _is_slow(fn):
                continue
            users = callers.get(name, set())
            if name.startswith("test") or not users or not all(_is_slow(functions[u]) for u in users if u in functions):
                offenders.append(f"{path.name}::{name}")
    assert not offenders, f"clocks read outside slow tests: {offenders}"


def test_the_test_group_installs_on_every_python_the_package_claims():
    """``pip install -e . --group test`` (the README's command) needs no package without wheels:
    atheris (none for Python 3.10 in its 3.x releases; it does not build) is in its own group,
    pinned per Python to releases with wheels."""
    import pytest
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((TESTS.parent / "pyproject.toml").read_text(encoding="utf-8"))
    groups = project["dependency-groups"]
    assert not [req for req in groups["test"] if isinstance(req, str) and req.startswith("atheris")]
    assert project["project"]["requires-python"] == ">=3.10"
    fuzz = groups["fuzz"]
    assert "atheris==2.3.0; platform_system == 'Linux' and python_version < '3.11'" in fuzz
