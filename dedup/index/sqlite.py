"""SqliteIndex: the corpus index in one SQLite file (stdlib ``sqlite3``), the embedded default.

Storage (append-only; one transaction per batch, WAL mode, so a crash loses at most the
batch in flight and never leaves half a batch):

- ``settings``: format version, config fingerprint and settings JSON (what ``bind`` checks).
- ``documents``: one row per indexed document: doc id (JSON text, decoded back to what
  was given), first entry id, paragraph count.
- ``entries``: one row per paragraph: document ordinal, paragraph index, span, set key,
  shingle ref (-1: own set stored; else the earlier entry whose set it shares).
- ``shingle_sets``: the sorted uint32 shingle set of each stored entry (BLOB), to verify
  candidates and exact matches.
- ``key_runs``: per batch, the ids, set keys and LSH band keys of its stored entries, as
  three BLOBs. Opening the index loads them into sorted in-process tables
  (:class:`~dedup.index.keyview.KeyView`, ~14 bytes per band key held in RAM), a run at a time; each
  batch then reads only the runs other writers appended since (see keyview.py for why
  not a B-tree of band keys).

Durability: ``synchronous=NORMAL`` (WAL's usual pairing). A killed process loses only
its open transaction; a power cut may also lose the last few committed batches, but
never corrupts the file. Re-feeding the documents replays what was kept, so a lost
batch is simply decided again, with the same result.

Concurrency: :meth:`batch` takes SQLite's write lock (``BEGIN IMMEDIATE``) for the
lookups, decisions and writes of one batch, so writers in several processes take
turns. No entry is lost, and a writer never decides against a stale index. A writer that
waits longer than ``timeout`` gets :class:`IndexBusyError`, as does an :meth:`add`
outside :meth:`batch` when another process wrote in between.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import numpy as np

from dedup.arrays import exclusive_cumsum, row_of
from dedup.errors import DedupError, IndexBusyError
from dedup.index.base import DocId, Index, IndexBatch, Location, Settings, check_settings, info_fields
from dedup.index.codec import I64, U64, pack, set_blobs, shingle_set
from dedup.index.doc_ids import decode_doc_id, encode_doc_id
from dedup.index.durability import checkpoint
from dedup.index.keyview import KeyView

FORMAT_VERSION = 1
#: A wait for the write lock at least this long (seconds) is logged.
_LOG_WAIT = 1.0

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    ord INTEGER PRIMARY KEY, doc_id TEXT NOT NULL,
    first_entry INTEGER NOT NULL, n_entries INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS documents_by_doc_id ON documents (doc_id, ord);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY, doc INTEGER NOT NULL, para INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    set_key INTEGER NOT NULL, shingle_ref INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS shingle_sets (entry INTEGER PRIMARY KEY, hashes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS key_runs (
    first_entry INTEGER PRIMARY KEY, ids BLOB NOT NULL,
    set_keys BLOB NOT NULL, band_keys BLOB NOT NULL);
"""

_CHUNK = 500  # ids per IN (...) query: well under SQLite's variable limit


class SqliteIndex(Index):
    """Corpus index persisted in an SQLite file; reopen it to continue where a run ended.

    ``SqliteIndex(path, *, timeout=120.0, create=True)``. ``timeout``: seconds to wait
    for another process's batch to finish before raising :class:`IndexBusyError`.
    ``create=False`` refuses a path that does not exist yet (for inspection tools).
    Use as a context manager or call :meth:`close`; picklable (reopens the file).
    """

    shared_between_processes = True  # processes take turns on it

    def __init__(self, path: Union[str, os.PathLike], *, timeout: float = 120.0,
                 create: bool = True, cache_size: int = 16384, read_only: bool = False) -> None:
        self.path = Path(path)
        self.timeout = float(timeout)
        self._cache_size = int(cache_size)
        self.read_only = bool(read_only)
        if (not create or read_only) and not self.path.exists():
            raise DedupError(f"{self.path}: no index there (file not found)")
        if self.path.is_dir():
            raise DedupError(f"{self.path}: is a directory, not an index file")
        if not self.path.parent.is_dir():
            raise DedupError(f"{self.path}: the directory {self.path.parent} does not exist")
        if self.read_only:  # never writes the file (SQLite may add its -wal/-shm side files beside it)
            self._con = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                        timeout=self.timeout, isolation_level=None)
        else:
            self._con = sqlite3.connect(str(self.path), timeout=self.timeout, isolation_level=None)
        self._settings: Optional[Settings] = None
        self._depth = 0  # nesting of batch()
        self._view = KeyView(None)  # its bucket cap comes with the settings (_reset_view)
        self._view_fresh = False  # loaded at least once
        self._shingles = lru_cache(maxsize=self._cache_size)(self._load_shingles)
        try:
            if not self.read_only:
                self._wal_mode()
                self._con.execute("PRAGMA synchronous=NORMAL")
            elif not self._has_schema():
                raise DedupError(f"{self.path}: an empty index (nothing to query)")
            if not self._has_schema():
                with self._write():  # a new file: create the tables (once, whoever is first)
                    self._create_schema()
            row = self._con.execute("SELECT value FROM settings WHERE name = 'format'").fetchone()
            if int(row[0]) != FORMAT_VERSION:
                raise DedupError(f"{self.path}: index format {row[0]}, this dedup reads format {FORMAT_VERSION}")
            self._settings = self._stored_settings()
            self._view = KeyView(self._bucket_cap())
        except sqlite3.DatabaseError as exc:
            self._con.close()
            raise DedupError(f"{self.path}: not a dedup index ({exc})") from None
        except BaseException:
            self._con.close()
            raise

    def _wal_mode(self) -> None:
        """Switch to WAL. SQLite answers "database is locked" at once (no busy wait) while another
        process creates the file, so two writers starting together retry up to ``timeout``."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self._con.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexBusyError(f"{self.path}: locked by another process for more than "
                                         f"{self.timeout:g} s ({exc})") from None
            time.sleep(0.01)

    def _has_schema(self) -> bool:
        names = {r[0] for r in self._con.execute("SELECT name FROM sqlite_master")}
        if names and "settings" not in names:
            raise DedupError(f"{self.path}: an SQLite database, but not a dedup index "
                             f"(tables: {', '.join(sorted(names))})")
        return bool(names) and self._con.execute(
            "SELECT 1 FROM settings WHERE name = 'format'").fetchone() is not None

    def _create_schema(self) -> None:
        if self._has_schema():  # another process created it while we waited for the lock
            return
        for statement in _SCHEMA.split(";"):  # not executescript: it would COMMIT
            if statement.strip():
                self._con.execute(statement)
        self._con.execute("INSERT INTO settings VALUES ('format', ?)", (str(FORMAT_VERSION),))

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "SqliteIndex":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getstate__(self) -> dict:
        return {"path": str(self.path), "timeout": self.timeout, "cache_size": self._cache_size,
                "read_only": self.read_only}

    def __setstate__(self, state: dict) -> None:
        SqliteIndex.__init__(self, state["path"], timeout=state["timeout"], cache_size=state["cache_size"],
                             read_only=state.get("read_only", False))

    def __repr__(self) -> str:
        return f"SqliteIndex({str(self.path)!r})"

    # -- transactions ------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction (or a no-op inside an open one)."""
        if self._con.in_transaction:
            yield
            return
        started = time.monotonic()
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise IndexBusyError(f"{self.path}: could not take the write lock within "
                                 f"{self.timeout:g} s ({exc}); another process is writing") from None
        waited = time.monotonic() - started
        if waited >= _LOG_WAIT:
            log.info("%s: waited %.1f s for the write lock (another process was writing)", self.path, waited)
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        checkpoint("sqlite.commit")
        self._con.execute("COMMIT")

    @contextmanager
    def batch(self) -> Iterator["SqliteIndex"]:
        """Hold the write lock for one batch: lookups, decisions and ``add`` see one state.

        Re-entrant. On an exception the batch is rolled back (nothing of it is stored).
        """
        if self._depth or self.read_only:  # read-only: nothing to lock, nothing added
            if not self._depth:
                self._sync()
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        try:
            with self._write():
                self._depth = 1
                self._sync()
                yield self
        except BaseException:
            self._reset_view()  # the view may hold keys of the rolled-back batch
            raise
        finally:
            self._depth = 0

    def _next_id(self) -> int:
        return int(self._con.execute("SELECT COALESCE(MAX(id) + 1, 0) FROM entries").fetchone()[0])

    def _reset_view(self) -> None:
        self._view = KeyView(self._bucket_cap())
        self._view_fresh = False
        self._shingles.cache_clear()

    def _bucket_cap(self) -> Optional[int]:
        """The ids a band key needs to keep: the settings' ``max_bucket_candidates`` (None: unknown)."""
        stored = getattr(self, "_settings", None)
        settings = stored[1] if stored is not None else None
        return int(settings["max_bucket_candidates"]) if settings and "max_bucket_candidates" in settings else None

    def _sync(self) -> None:
        """Bring the in-process key tables up to the entries stored (by any process)."""
        n = self._next_id()
        if n < self._view.len:  # the file was replaced or truncated under us
            self._reset_view()
        if n == self._view.len and self._view_fresh:
            return
        # Run by run, as the cursor reads them: the tables grow as they did while the index was
        # built, and no copy of all the keys is ever held at once (reopening peaks no higher).
        rows = self._con.execute(
            "SELECT ids, set_keys, band_keys FROM key_runs WHERE first_entry >= ? ORDER BY first_entry",
            (self._view.len,))
        for ids_blob, keys_blob, bands_blob in rows:
            ids = np.frombuffer(ids_blob, dtype=I64)
            self._view.add_run(ids, np.frombuffer(keys_blob, dtype=U64),
                               np.frombuffer(bands_blob, dtype=U64).reshape(len(ids), -1))
        self._view.len = n
        self._view_fresh = True

    # -- the Index protocol ------------------------------------------------------------

    def _stored_settings(self) -> Optional[Settings]:
        rows = dict(self._con.execute(
            "SELECT name, value FROM settings WHERE name IN ('fingerprint', 'settings')").fetchall())
        if "fingerprint" not in rows:
            return None
        return rows["fingerprint"], json.loads(rows["settings"])

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        if self.read_only:
            stored = self._stored_settings()
            if stored is None:
                raise DedupError(f"{self.path}: an empty index (nothing to query)")
            self._settings = stored
            check_settings(f"index {self.path}", stored, settings_fingerprint, settings)
            return
        with self._write():
            stored = self._stored_settings()
            if stored is None:
                self._con.executemany("INSERT INTO settings VALUES (?, ?)", [
                    ("fingerprint", settings_fingerprint),
                    ("settings", json.dumps(settings, sort_keys=True))])
                stored = (settings_fingerprint, dict(settings))
        self._settings = stored
        check_settings(f"index {self.path}", stored, settings_fingerprint, settings)

    def __len__(self) -> int:
        if not self._depth:
            self._sync()
        return self._view.len

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        if not self._view_fresh:
            self._sync()
        row = self._con.execute(
            "SELECT first_entry, n_entries FROM documents WHERE doc_id = ? ORDER BY ord LIMIT 1",
            (encode_doc_id(doc_id),)).fetchone()
        if row is None or row[0] + row[1] > self._view.len:  # not yet in this writer's view
            return None
        return int(row[0]), int(row[1])

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        return self._view.first_exact(set_keys)

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros(0, dtype=np.uint64)
        lo, hi = int(ids.min()), int(ids.max())
        if hi - lo + 1 <= 4 * len(ids):  # a range (the usual case): one query
            rows = self._con.execute("SELECT id, set_key FROM entries WHERE id BETWEEN ? AND ?",
                                     (lo, hi)).fetchall()
        else:
            rows = []
            uniq = np.unique(ids).tolist()
            for i in range(0, len(uniq), _CHUNK):
                part = uniq[i:i + _CHUNK]
                rows += self._con.execute(
                    f"SELECT id, set_key FROM entries WHERE id IN ({','.join('?' * len(part))})",
                    part).fetchall()
        got = dict(rows)
        missing = [i for i in ids.tolist() if i not in got]
        if missing:
            raise KeyError(f"{self.path}: no entries {missing[:5]}")
        return np.array([got[i] for i in ids.tolist()], dtype=np.int64).view(np.uint64)

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        return self._view.band_candidates(band_keys, limit)

    def _load_shingles(self, entry_id: int) -> np.ndarray:
        row = self._con.execute(
            "SELECT s.hashes FROM entries e JOIN shingle_sets s ON s.entry = "
            "CASE WHEN e.shingle_ref >= 0 THEN e.shingle_ref ELSE e.id END WHERE e.id = ?",
            (entry_id,)).fetchone()
        if row is None:
            raise KeyError(f"{self.path}: no entry {entry_id}")
        return shingle_set(row[0])

    def shingles(self, entry_id: int) -> np.ndarray:
        return self._shingles(int(entry_id))

    def location(self, entry_id: int) -> Location:
        row = self._con.execute(
            'SELECT d.doc_id, e.para, e.start, e."end" FROM entries e JOIN documents d ON d.ord = e.doc '
            "WHERE e.id = ?", (int(entry_id),)).fetchone()
        if row is None:
            raise KeyError(f"{self.path}: no entry {entry_id}")
        return Location(decode_doc_id(row[0]), int(row[1]), int(row[2]), int(row[3]))

    def add(self, batch: IndexBatch) -> None:
        if self.read_only:
            raise DedupError(f"{self.path}: opened read-only; nothing can be added")
        n = len(batch)
        if n == 0 and not batch.doc_ids:
            return
        base = self._view.len
        try:
            with self._write():
                if self._depth == 0 and self._next_id() != base:
                    raise IndexBusyError(
                        f"{self.path}: another process added entries since this batch read the index "
                        f"({self._next_id() - base} more); write through Deduplicator or inside "
                        "index.batch() so writers take turns")
                self._insert(batch, base)
        except BaseException:
            if self._depth == 0:
                self._reset_view()
            raise
        stored = batch.shingle_ref < 0
        ids = np.arange(base, base + n, dtype=np.int64)
        self._view.add_run(ids[stored], batch.set_keys[stored].astype(np.uint64),
                           batch.band_keys[stored].astype(np.uint64))
        self._view.len = base + n

    def _insert(self, batch: IndexBatch, base: int) -> None:
        con = self._con
        n = len(batch)
        first_ord = int(con.execute("SELECT COALESCE(MAX(ord) + 1, 0) FROM documents").fetchone()[0])
        sizes = np.asarray(batch.doc_sizes, dtype=np.int64)
        first_row = base + exclusive_cumsum(sizes)
        con.executemany("INSERT INTO documents VALUES (?, ?, ?, ?)", [
            (first_ord + k, encode_doc_id(doc_id), first, size)
            for k, (doc_id, first, size) in enumerate(zip(batch.doc_ids, first_row.tolist(), sizes.tolist()))])
        if n == 0:
            return
        ids = np.arange(base, base + n, dtype=np.int64)
        doc_ord = first_ord + row_of(sizes)
        set_keys = np.asarray(batch.set_keys, dtype=np.uint64).view(np.int64)
        con.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", zip(
            ids.tolist(), doc_ord.tolist(), np.asarray(batch.para_index).tolist(),
            np.asarray(batch.starts).tolist(), np.asarray(batch.ends).tolist(), set_keys.tolist(),
            np.asarray(batch.shingle_ref).tolist()))
        stored = np.flatnonzero(np.asarray(batch.shingle_ref) < 0)
        if len(stored) == 0:
            return
        rows = stored.tolist()
        con.executemany("INSERT INTO shingle_sets VALUES (?, ?)", zip(
            [base + r for r in rows], set_blobs(batch.hashes, batch.offsets, rows)))
        con.execute("INSERT INTO key_runs VALUES (?, ?, ?, ?)", (
            base, pack(ids[stored], I64), pack(np.asarray(batch.set_keys)[stored], U64),
            pack(np.asarray(batch.band_keys)[stored], U64)))

    # -- inspection --------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Bytes held in process (the key tables); the file holds the rest."""
        return self._view.nbytes

    def info(self) -> Dict[str, Any]:
        """What the index holds: settings, paragraphs, documents, size on disk."""
        con = self._con
        files = [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]
        stored = self._stored_settings()
        return info_fields("sqlite", {"path": str(self.path), "format": FORMAT_VERSION}, stored, {
            "paragraphs": self._next_id(),
            "stored_sets": int(con.execute("SELECT COUNT(*) FROM shingle_sets").fetchone()[0]),
            "documents": int(con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]),
            "distinct_doc_ids": int(con.execute("SELECT COUNT(DISTINCT doc_id) FROM documents").fetchone()[0]),
            "size_bytes": sum(f.stat().st_size for f in files if f.exists()),
        })
