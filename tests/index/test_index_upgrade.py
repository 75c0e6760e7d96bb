"""SQLite index format 1 (dedup 0.1) is refused in one line naming ``dedup index upgrade``, which
converts it in place; decisions against the upgraded index are those the old version made.

The format-1 files were written by that version (``tests/index/index_formats/make_format1.py``), with
what it decided for the rest of the corpus against them.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

import dedup
from dedup.cli.index import main as index_main

FORMATS = Path(__file__).resolve().parent / "index_formats"
sys.path.insert(0, str(FORMATS))
from make_format1 import corpus, decisions  # noqa: E402


def _cli(*argv: str) -> tuple:
    out, err = io.StringIO(), io.StringIO()
    code = index_main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _without_offsets(rows: list) -> list:
    """Exact-only indexes keep no character offsets of the earlier paragraph (0, 0 since format 2,
    as the in-memory exact index always reported)."""
    return [[i, t, [{k: v for k, v in r.items() if k not in ("matched_start", "matched_end")} for r in rm]]
            for i, t, rm in rows]


@pytest.mark.parametrize("name", ["full", "exact-only"])
def test_a_format_1_index_is_refused_then_upgraded_and_decides_as_before(tmp_path, name):
    path = tmp_path / "old.dedup"
    shutil.copy(FORMATS / f"format1-{name}.dedup", path)
    with pytest.raises(dedup.DedupError, match=r"index format 1, this dedup reads format 2; convert it with: "
                                               r"dedup index upgrade .*old\.dedup"):
        dedup.SqliteIndex(path)
    code, out, err = _cli("upgrade", str(path))
    assert code == 0 and err == "", err
    texts, ids = corpus()
    half = len(texts) // 2
    assert "upgraded to index format 2" in out and f"{half:,} documents" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.dedup"]  # no temporary file left
    exact_only = name == "exact-only"
    # dedup 0.1's settings are preset "strict"'s today (the defaults add rules since): named in the error
    with pytest.raises(dedup.IndexMismatchError, match="its settings are preset 'strict''s: pass preset='strict'"):
        dedup.Deduplicator(index=str(path), exact_only=exact_only)
    d = dedup.Deduplicator(index=str(path), batch_paragraphs=40, exact_only=exact_only, preset="strict")
    got = json.loads(json.dumps(decisions(d.dedupe_many(texts[half:], ids[half:]))))  # as the file holds them
    d.index.close()
    expected = json.loads((FORMATS / "format1_continued.json").read_text())[name]
    assert any(rm for _, _, rm in expected)  # the rest of the corpus repeats the first half
    if name == "exact-only":
        got, expected = _without_offsets(got), _without_offsets(expected)
    assert got == expected


def test_upgrading_twice_or_something_else_says_so_in_one_line(tmp_path):
    path = tmp_path / "old.dedup"
    shutil.copy(FORMATS / "format1-full.dedup", path)
    assert _cli("upgrade", str(path))[0] == 0
    code, _, err = _cli("upgrade", str(path))
    assert code == 1 and "already index format 2; nothing to upgrade" in err and err.count("\n") == 1
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    code, _, err = _cli("upgrade", str(other))
    assert code == 1 and "not a dedup index" in err and err.count("\n") == 1
    code, _, err = _cli("upgrade", str(tmp_path / "missing.dedup"))
    assert code == 1 and "no index file there" in err


def test_an_interrupted_upgrade_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "old.dedup"
    shutil.copy(FORMATS / "format1-full.dedup", path)
    def content():
        con = sqlite3.connect(path)
        try:
            return list(con.iterdump()), con.execute("PRAGMA journal_mode").fetchone()[0]
        finally:
            con.close()
    before = content()
    from dedup.index import sqlite_upgrade

    def fail(*args):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(sqlite_upgrade.os, "replace", fail)
    with pytest.raises(OSError):
        sqlite_upgrade.upgrade(path)
    assert content() == before  # the same rows, still in WAL mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.dedup"]
