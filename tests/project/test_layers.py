"""The layer rule, read from the source: no upward import, no cycle, no private name of another package.

A module's *unit* is its first two dotted names (``dedup.text.split`` -> ``dedup.text``);
units are placed in :data:`LAYERS`, top (0) to bottom. Every ``import`` counts, inside
functions too. A unit may import its own private modules and names (``_x``), and everyone
may import ``dedup._optional``. Today's violations are listed in :data:`KNOWN_VIOLATIONS`:
the test fails on a new one and on a listed one that is gone (the list can only shrink).
Run ``pytest tests/project/test_layers.py -s`` to see the list.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]

LAYERS = {
    "dedup": 0, "dedup.__main__": 0, "dedup.cli": 0, "dedup.audit": 0, "dedup.spark": 0, "dedup.stream": 0,
    "dedup.warmup": 0, "dedup.columnar": 0,
    "dedup.deduplicator": 1, "dedup.check": 1, "dedup.engine": 1, "dedup.contamination": 1, "dedup.boilerplate": 1,
    "dedup.decide": 2, "dedup.index": 2, "dedup.config": 2,
    "dedup.fingerprint": 3, "dedup.text": 3, "dedup.io": 3, "dedup.accel": 3,
    "dedup.chardata": 4, "dedup.arrays": 4, "dedup.results": 4, "dedup.errors": 4, "dedup._optional": 4,
    "dedup.version": 4,
}
SHARED_PRIVATE = "dedup._optional"

#: (importer module, imported name) pairs that break the rule today; remove each one fixed.
KNOWN_VIOLATIONS: Set[Tuple[str, str]] = set()  # none left: every import keeps to the layers

Import = Tuple[str, str]  # (importer module, imported name in full: dedup.text.split.normalize)


def unit(name: str) -> str:
    """The package or top-level module a name belongs to: its first two dotted names."""
    return ".".join(name.split(".")[:2])


def is_private(name: str) -> bool:
    """``_x`` anywhere in the dotted name (``__dunder__`` names are public)."""
    return any(part.startswith("_") and not (part.startswith("__") and part.endswith("__")) for part in name.split("."))


def module_names() -> Dict[str, Path]:
    modules = {}
    for path in sorted((ROOT / "dedup").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports_of(path: Path) -> Iterator[str]:
    """Every name the file imports, anywhere in it (no relative imports are used)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def reaches(graph: Dict[str, Set[str]], start: str, goal: str) -> bool:
    """Whether an edge from ``goal`` to ``start`` closes a cycle (``start`` leads back to ``goal``)."""
    if start == goal:
        return False
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo += graph.get(node, ())
    return False


def graph(pairs) -> Dict[str, Set[str]]:
    """Adjacency sets of the (from, to) pairs, self-loops left out."""
    out: Dict[str, Set[str]] = {}
    for a, b in pairs:
        if a != b:
            out.setdefault(a, set()).add(b)
    return out


def violations() -> Dict[Import, List[str]]:
    """Every import of a dedup name that breaks the rule, with the reasons."""
    modules = module_names()
    edges = [(importer, name, max((m for m in modules if f"{name}.".startswith(f"{m}.")), key=len))
             for importer, path in modules.items() for name in imports_of(path) if name.split(".")[0] == "dedup"]
    by_module = graph((importer, target) for importer, _, target in edges if unit(importer) == unit(target))
    # A cycle across layers has an upward edge (reported as such): look for cycles in one layer.
    by_unit = graph((unit(importer), unit(target)) for importer, _, target in edges
                    if LAYERS[unit(importer)] == LAYERS[unit(target)])
    found: Dict[Import, List[str]] = {}
    for importer, name, target in edges:
        reasons = [
            "upward" if LAYERS[unit(target)] < LAYERS[unit(importer)] else "",
            "cycle" if reaches(by_module, target, importer) or reaches(by_unit, unit(target), unit(importer)) else "",
            "private" if is_private(name) and unit(name) not in (unit(importer), SHARED_PRIVATE) else "",
        ]
        if any(reasons):
            found.setdefault((importer, name), []).extend(r for r in reasons if r)
    return found


def test_no_import_breaks_the_layers_beyond_the_known_ones():
    found = violations()
    for (importer, name), reasons in sorted(found.items()):
        listed = "known" if (importer, name) in KNOWN_VIOLATIONS else "NEW"
        print(f"{listed:5} {'+'.join(reasons):15} {importer} imports {name}")
    new = sorted(set(found) - KNOWN_VIOLATIONS)
    gone = sorted(KNOWN_VIOLATIONS - set(found))
    assert not new, f"imports that break the layers (see dedup's layer table in this file): {new}"
    assert not gone, f"fixed, so remove them from KNOWN_VIOLATIONS: {gone}"


def test_every_module_has_a_layer():
    assert {unit(m) for m in module_names()} <= set(LAYERS)


# -- docs/internals.md's layer table is LAYERS -----------------------------------------------

INTERNALS = ROOT / "docs" / "internals.md"


def documented_layers(markdown: str) -> Tuple[Dict[str, int], Dict[str, Set[str]]]:
    """From the ``| layer | unit | its job |`` table: unit -> layer, and package unit -> the module
    files its row names. A unit is ``dedup/x/`` or ``dedup/x.py``; the row "bottom modules" places
    every ``x.py`` it names; ``dedup/__init__.py`` stands for the package itself (and the
    ``__main__.py`` its row names)."""
    layers: Dict[str, int] = {}
    files: Dict[str, Set[str]] = {}
    for layer, unit_cell, job in re.findall(r"^\| (\d) \| (.+?) \| (.+) \|$", markdown, flags=re.M):
        named = set(re.findall(r"`([\w.]+\.py)`", job))
        package = re.fullmatch(r"`dedup/(\w+)/`", unit_cell)
        module = re.fullmatch(r"`dedup/(\w+)\.py`", unit_cell)
        if package:
            layers[f"dedup.{package.group(1)}"] = int(layer)
            files[f"dedup.{package.group(1)}"] = named
        elif module and module.group(1) == "__init__":
            layers["dedup"] = int(layer)
            layers.update({f"dedup.{name[:-3]}": int(layer) for name in named if name == "__main__.py"})
        elif module:
            layers[f"dedup.{module.group(1)}"] = int(layer)
        else:
            layers.update({f"dedup.{name[:-3]}": int(layer) for name in named})
    return layers, files


def test_the_internals_layer_table_is_the_enforced_one():
    layers, files = documented_layers(INTERNALS.read_text(encoding="utf-8"))
    assert layers == LAYERS, f"docs/internals.md's layer table differs from LAYERS: " \
                             f"{sorted(set(layers.items()) ^ set(LAYERS.items()))}"
    for package, named in files.items():
        modules = {p.name for p in (ROOT / Path(*package.split("."))).glob("*.py") if p.name != "__init__.py"}
        assert named == modules, f"docs/internals.md's row of {package} names {sorted(named ^ modules)} wrongly"


def test_the_table_reader_places_every_kind_of_row():
    layers, files = documented_layers("| 0 | `dedup/__init__.py` | the API; `__main__.py` |\n"
                                      "| 2 | `dedup/index/` | `base.py` the contract |\n"
                                      "| 1 | `dedup/check.py` | checks |\n| 4 | bottom modules | `errors.py`, `version.py` |\n")
    assert layers == {"dedup": 0, "dedup.__main__": 0, "dedup.index": 2, "dedup.check": 1, "dedup.errors": 4,
                      "dedup.version": 4}
    assert files == {"dedup.index": {"base.py"}}
