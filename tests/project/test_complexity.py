"""No function of the package is denser than a reader can hold: radon's cyclomatic complexity
at most 20 everywhere in dedup/ but the compiled kernels (dedup/accel/_kernels.py, numba code
written as flat loops on purpose)."""

from __future__ import annotations

from pathlib import Path
from typing import List

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_COMPLEXITY = 20
EXEMPT = {ROOT / "dedup" / "accel" / "_kernels.py"}


def too_complex(source: str, where: str, limit: int = MAX_COMPLEXITY) -> List[str]:
    """``where:line name (complexity)`` of every function or method of ``source`` above ``limit``."""
    from radon.complexity import cc_visit
    from radon.visitors import Class

    return [f"{where}:{block.lineno} {block.fullname} ({block.complexity})" for block in cc_visit(source)
            if not isinstance(block, Class) and block.complexity > limit]  # methods come as blocks of their own


def test_no_function_of_the_package_is_above_the_limit():
    pytest.importorskip("radon", reason="pip install -e . --group test (radon measures the complexity)")
    found = []
    for path in sorted((ROOT / "dedup").rglob("*.py")):
        if path not in EXEMPT:
            found += too_complex(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert not found, f"functions above cyclomatic complexity {MAX_COMPLEXITY}: split them: {found}"


def test_the_measure_catches_a_dense_function():
    pytest.importorskip("radon")
    branches = "".join(f"    if x == {k}:\n        return {k}\n" for k in range(25))
    assert too_complex(f"def f(x):\n{branches}    return -1\n", "f.py")
    assert not too_complex("class A:\n    def g(self):\n        return 1\n", "a.py")
    method = f"class A:\n    def g(self, x):\n" + branches.replace("\n    ", "\n        ").replace("    if", "        if", 1)
    assert too_complex(method, "a.py")
