"""``dedup index upgrade``: an SQLite index of format 1 (a row per paragraph) rewritten as format 2.

Format 2 (:mod:`dedup.index.sqlite`) stores a row per batch, in the form the compiled engine's
store takes directly. The conversion reads the old file's documents, paragraphs, shingle sets and
key runs in id order, a group of documents at a time, writes them as batches to a new file beside
it, then renames the new file over the old one (fsynced first, so a crash leaves one or the other,
whole). The old file's write lock is held meanwhile: no writer adds to it while it is copied; it
is refused while another process has the file open.
Decisions against the upgraded index are those against the old one (same entries, same order).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple, Union

import numpy as np

from dedup.errors import DedupError
from dedup.index.base import IndexBatch
from dedup.index.codec import I64, U32, U64, unpack
from dedup.index.doc_ids import decode_doc_id
from dedup.index.durability import fsync_directory

#: Paragraphs per batch written (about one engine chunk).
_BATCH_ENTRIES = 8192


def upgrade(path: Union[str, os.PathLike]) -> Dict[str, Any]:
    """Convert the format-1 SQLite index at ``path`` in place; returns what it holds (counts).

    Raises DedupError when ``path`` is not a format-1 index (a format-2 one needs nothing).
    """
    from dedup.index.sqlite import FORMAT_VERSION, SqliteIndex

    path = Path(path)
    if not path.is_file():
        raise DedupError(f"{path}: no index file there")
    old = sqlite3.connect(str(path), isolation_level=None, timeout=120.0)
    tmp = path.with_name(path.name + ".upgrade")
    try:
        version = _format_of(old, path)
        if version == FORMAT_VERSION:
            raise DedupError(f"{path}: already index format {FORMAT_VERSION}; nothing to upgrade")
        if version != 1:
            raise DedupError(f"{path}: index format {version}; this dedup upgrades format 1 to {FORMAT_VERSION}")
        # Out of WAL mode: the old file alone then holds everything, and no -wal/-shm file of it is
        # left beside the new one. SQLite refuses while another process has it open.
        mode = old.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
        if str(mode).lower() != "delete":
            raise DedupError(f"{path}: in use by another process; upgrade it when nothing else has it open")
        old.execute("BEGIN IMMEDIATE")  # no writer adds while it is copied
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)  # an earlier upgrade that was interrupted
        settings = dict(old.execute("SELECT name, value FROM settings").fetchall())
        new = SqliteIndex(tmp)
        try:
            if "fingerprint" in settings:
                new.bind(settings["fingerprint"], json.loads(settings["settings"]))
                for batch in _batches(old):
                    new.add(batch)
            counts = {"paragraphs": len(new), "documents": new.info()["documents"]}
        finally:
            new.close()  # the last connection: its write-ahead log is folded into the file
        try:
            os.replace(tmp, path)
        except BaseException:
            old.execute("ROLLBACK")
            old.execute("PRAGMA journal_mode=WAL")  # the old file as it was
            raise
        fsync_directory(path.parent)
        old.execute("ROLLBACK")
    except sqlite3.DatabaseError as exc:
        raise DedupError(f"{path}: could not upgrade ({exc})") from None
    finally:
        old.close()
        tmp.unlink(missing_ok=True)
    return {"path": str(path), "format": FORMAT_VERSION, **counts}


def _format_of(con: sqlite3.Connection, path: Path) -> int:
    try:
        row = con.execute("SELECT value FROM settings WHERE name = 'format'").fetchone()
    except sqlite3.DatabaseError:
        row = None
    if row is None:
        raise DedupError(f"{path}: not a dedup index")
    return int(row[0])


def _batches(con: sqlite3.Connection) -> Iterator[IndexBatch]:
    """The old file's entries as batches of whole documents, in id order."""
    runs = _band_rows(con)
    group: List[Tuple[str, int, int]] = []
    size = 0
    for doc_id, first, n in con.execute("SELECT doc_id, first_entry, n_entries FROM documents ORDER BY ord"):
        group.append((doc_id, int(first), int(n)))
        size += int(n)
        if size >= _BATCH_ENTRIES:
            yield _batch(con, group, runs)
            group, size = [], 0
    if group:
        yield _batch(con, group, runs)


def _band_rows(con: sqlite3.Connection) -> "_BandRows":
    return _BandRows(con.execute("SELECT ids, band_keys FROM key_runs ORDER BY first_entry"))


class _BandRows:
    """The band keys of stored entries, read run by run as the ids asked for grow."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor
        self._ids = np.zeros(0, dtype=np.int64)
        self._keys = np.zeros((0, 0), dtype=np.uint64)

    def take(self, ids: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """Band keys of ``ids`` (all in ``[lo, hi)``, increasing)."""
        while not len(self._ids) or self._ids[-1] < hi - 1:
            row = self._cursor.fetchone()
            if row is None:
                break
            run_ids = unpack(row[0], I64).astype(np.int64)
            keys = unpack(row[1], U64).astype(np.uint64)
            keys = keys.reshape(len(run_ids), -1) if len(run_ids) else keys.reshape(0, self._keys.shape[1])
            if self._keys.shape[1] != keys.shape[1] and len(self._ids) == 0:
                self._keys = np.zeros((0, keys.shape[1]), dtype=np.uint64)
            self._ids = np.concatenate([self._ids, run_ids])
            self._keys = np.concatenate([self._keys, keys])
        at = np.searchsorted(self._ids, ids)
        if len(ids) and (at.max() >= len(self._ids) or not np.array_equal(self._ids[at], ids)):
            raise DedupError("the index's key runs miss entries it stores (a damaged format-1 file)")
        out = self._keys[at]
        keep = np.searchsorted(self._ids, hi)
        self._ids, self._keys = self._ids[keep:], self._keys[keep:]
        return out


def _batch(con: sqlite3.Connection, group: List[Tuple[str, int, int]], runs: _BandRows) -> IndexBatch:
    lo = group[0][1]
    hi = group[-1][1] + group[-1][2]
    rows = con.execute('SELECT id, para, start, "end", set_key, shingle_ref FROM entries '
                       "WHERE id >= ? AND id < ? ORDER BY id", (lo, hi)).fetchall()
    table = np.array(rows, dtype=np.int64).reshape(len(rows), 6)
    if len(rows) != hi - lo or (len(rows) and not np.array_equal(table[:, 0], np.arange(lo, hi))):
        raise DedupError(f"entries {lo}..{hi - 1} are not all in the index (a damaged format-1 file)")
    refs = table[:, 5]
    stored = np.flatnonzero(refs < 0)
    sets = dict(con.execute("SELECT entry, hashes FROM shingle_sets WHERE entry >= ? AND entry < ?", (lo, hi)))
    parts = [unpack(sets[lo + int(i)], U32).astype(np.uint32) if lo + int(i) in sets else np.zeros(0, np.uint32)
             for i in stored.tolist()]
    lengths = np.zeros(len(rows), dtype=np.int64)
    lengths[stored] = [len(p) for p in parts]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    stored_bands = runs.take(lo + stored, lo, hi)
    bands = np.zeros((len(rows), stored_bands.shape[1]), dtype=np.uint64)
    bands[stored] = stored_bands
    return IndexBatch(
        set_keys=np.ascontiguousarray(table[:, 4]).view(np.uint64), band_keys=bands,
        hashes=np.concatenate(parts) if parts else np.zeros(0, np.uint32), offsets=offsets, shingle_ref=refs,
        doc_ids=[decode_doc_id(doc_id) for doc_id, _, _ in group],
        doc_sizes=np.array([n for _, _, n in group], dtype=np.int64), para_index=table[:, 1],
        starts=table[:, 2], ends=table[:, 3])
