"""docs/guarantees.md names its tests by path under tests/, and every test it names exists.

A backticked ``DIR/test_x.py`` or ``DIR/test_x.py::name`` names a file and a function in it; a
bare backticked ``test_name`` after one, in the same table cell, is a function of that file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, List, Set

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
GUARANTEES = ROOT / "docs" / "guarantees.md"
NAMED = re.compile(r"`((?:\w+/)*(?:test_\w+|\w+_harness)\.py)(?:::(\w+))?`|`(test_\w+)`")


def functions_of(path: Path) -> Set[str]:
    """Every function (tests and helpers, at any depth) defined in a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def missing_references(markdown: str) -> List[str]:
    """The references of ``markdown`` that name no file or function of tests/."""
    missing: List[str] = []
    known: Dict[str, Set[str]] = {}
    for line in markdown.splitlines():
        for cell in line.split("|"):
            current = None
            for file, name, bare in NAMED.findall(cell):
                if file:
                    path = ROOT / file if file.startswith("tests/") else TESTS / file
                    if not path.is_file():
                        missing.append(f"{file}: no such file under tests/")
                        current = None
                        continue
                    current = path
                    name = name or ""
                else:
                    name = bare
                    if current is None:
                        continue  # a setting or a case name, not a test
                if name and name not in known.setdefault(str(current), functions_of(current)):
                    missing.append(f"{current.relative_to(TESTS)}::{name}: no such function")
    return missing


def test_every_test_the_guarantees_name_exists():
    assert not missing_references(GUARANTEES.read_text(encoding="utf-8"))


def test_a_renamed_test_or_a_bare_file_name_is_caught():
    assert missing_references("| x | `contract/test_properties.py::test_no_such_thing` |")
    assert missing_references("| x | `test_properties.py` |")  # not its path under tests/
    assert missing_references("| x | `contract/test_properties.py::test_idempotent`, `test_gone` |")
    assert not missing_references("| x | `contract/test_properties.py::test_idempotent`, `min_tokens` |")
