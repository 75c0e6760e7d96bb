"""One resolver for index specs (:func:`dedup.index.open.index_kind`), and every command takes
every spec it accepts: ``dedup --index``, ``dedup index info``, ``dedup check --against`` and
``open_index`` agree on what a spec names.

The static test keeps it one: no other module of the package tells a spec apart by its
spelling (a URL scheme of an index, a trailing ``/``, SQLite's file header).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Callable, List

import pytest

from dedup.cli import main as cli_main
from dedup.index.compact import CompactIndex
from dedup.index.open import REDIS_SCHEMES, _SQLITE_HEADER, index_kind, open_index
from dedup.index.redis import RedisIndex
from dedup.index.sqlite import SqliteIndex
from helpers import write_jsonl
from index_support import redis_url  # noqa: F401  (a fixture)

ROOT = Path(__file__).resolve().parents[2]
RESOLVER = ROOT / "dedup" / "index" / "open.py"
DOC = ("The quarterly report was published on Monday and covers revenue, costs and the hiring plan "
       "for the next two years in some detail, with a long appendix of tables.")
KINDS = {"sqlite": SqliteIndex, "compact": CompactIndex, "redis": RedisIndex}

#: Every spelling of a spec the resolver accepts, as a function of a fresh directory.
SPECS: List[Callable[[Path], str]] = [
    lambda d: str(d / "seen.dedup"),          # a file path: SQLite
    lambda d: str(d / "seen") + "/",          # DIR/: compact, created
    lambda d: str(d / "made"),                # an existing directory without the slash: compact
]


@pytest.fixture(params=[0, 1, 2, "redis"], ids=["sqlite-file", "compact-dir-slash", "compact-existing-dir", "redis-url"])
def spec(request, tmp_path):
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        return f"{url}?prefix=specs-{tmp_path.name}:"
    (tmp_path / "made").mkdir()
    return SPECS[request.param](tmp_path)


def test_every_command_takes_every_spec_the_resolver_accepts(tmp_path, capsys, spec):
    kind = index_kind(spec)
    assert kind is not None
    records = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": DOC}])
    assert cli_main([str(records), "--id-field", "id", "--index", spec, "-o", str(tmp_path / "o.jsonl"), "-q"]) == 0
    assert cli_main(["index", "info", spec, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["kind"] == kind and info["paragraphs"] == 1
    index = open_index(spec, read_only=True)
    try:
        assert isinstance(index, KINDS[kind])
    finally:
        index.close()
    assert index_kind(spec, only_existing=True) == kind  # what `dedup check --against` asks
    hits = tmp_path / "hits.jsonl"
    assert cli_main(["check", str(records), "--id-field", "id", "--against", spec, "--hits", str(hits), "-q"]) == 0, capsys.readouterr().err
    assert [json.loads(line)["doc_id"] for line in hits.read_text().splitlines()] == ["a"]


def _spelling_tests(tree: ast.AST) -> List[int]:
    """Lines that test a string against an index spec's markers: ``.startswith``/``.endswith`` of
    an index URL scheme, or a comparison with SQLite's header."""
    markers = set(REDIS_SCHEMES) | {_SQLITE_HEADER}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("startswith", "endswith"):
            if any(isinstance(c, ast.Constant) and c.value in markers for a in node.args for c in ast.walk(a)):
                lines.append(node.lineno)
        elif isinstance(node, ast.Compare):
            if any(isinstance(c, ast.Constant) and c.value in markers for c in ast.walk(node)):
                lines.append(node.lineno)
    return lines


def test_no_other_module_tells_a_spec_apart():
    found = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "dedup").rglob("*.py")) if path != RESOLVER
             for line in _spelling_tests(ast.parse(path.read_text(encoding="utf-8")))]
    assert not found, f"index specs told apart outside dedup/index/open.py (ask index_kind): {found}"


def test_a_second_resolver_is_caught():
    assert _spelling_tests(ast.parse('ok = spec.startswith(("redis://", "unix://"))'))
    assert _spelling_tests(ast.parse('ok = head == b"SQLite format 3\\x00"'))
    assert not _spelling_tests(ast.parse('help = "a SQLite path, DIR/ or redis://..."'))
