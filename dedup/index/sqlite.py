"""SqliteIndex: the corpus index in one SQLite file (stdlib ``sqlite3``), the embedded default.

Storage (format 2): the settings, and one row per batch added (``batches``: its first entry,
counts, and the batch's arrays in one BLOB: set keys, band keys, shingle sets, spans, document
ids, as :func:`dedup.index.codec.batch_bytes` writes them). Append-only, one transaction per
batch, WAL mode: a crash loses at most the batch in flight and never leaves half a batch.

In process, the index is a :class:`~dedup.index.memory.MemoryIndex` (the compiled engine's store
where it is built) holding every batch: opening the file reads the rows one by one into it (so
reopening peaks no higher than building did), each batch first reads the rows other writers
appended since, and the engine decides against it directly, the file then storing what it added.

Durability: ``synchronous=NORMAL`` (WAL's usual pairing). A killed process loses only
its open transaction; a power cut may also lose the last few committed batches, but
never corrupts the file. Re-feeding the documents replays what was kept, so a lost
batch is simply decided again, with the same result.

Concurrency: :meth:`batch` takes SQLite's write lock (``BEGIN IMMEDIATE``) for the
lookups, decisions and writes of one batch, so writers in several processes take
turns. No entry is lost, and a writer never decides against a stale index. A writer that
waits longer than ``timeout`` gets :class:`IndexBusyError`, as does an :meth:`add`
outside :meth:`batch` when another process wrote in between.

Format 1 (dedup 0.1: a row per paragraph) is refused in one line naming ``dedup index upgrade``,
which converts it (:func:`upgrade`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple, Union

import numpy as np

from dedup.errors import DedupError, IndexBusyError
from dedup.index.base import DocId, Index, IndexBatch, Location, Settings, check_settings, info_fields
from dedup.index.codec import batch_bytes, batch_of
from dedup.index.durability import checkpoint
from dedup.index.memory import MemoryIndex

FORMAT_VERSION = 2
#: A wait for the write lock at least this long (seconds) is logged.
_LOG_WAIT = 1.0

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY, first_entry INTEGER NOT NULL, n_entries INTEGER NOT NULL,
    n_docs INTEGER NOT NULL, n_sets INTEGER NOT NULL, data BLOB NOT NULL);
"""


class SqliteIndex(Index):
    """Corpus index persisted in an SQLite file; reopen it to continue where a run ended.

    ``SqliteIndex(path, timeout=120.0, create=True, read_only=False)``. Use as a context manager
    or call :meth:`close`; picklable (reopens the file).
    """

    shared_between_processes = True  # processes take turns on it

    def __init__(self, path: Union[str, os.PathLike], *, timeout: float = 120.0,
                 create: bool = True, cache_size: int = 16384, read_only: bool = False) -> None:
        self.path = Path(path)
        self.timeout = float(timeout)
        self._cache_size = int(cache_size)  # kept for pickles of older versions; unused
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
        self._mirror = MemoryIndex()  # every stored batch, in process (bound with the settings)
        self._seq = 0  # the last batch read into the mirror
        self._mirror_fresh = False  # loaded at least once
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
                hint = (f"; convert it with: dedup index upgrade {self.path}" if int(row[0]) < FORMAT_VERSION
                        else " (written by a newer dedup)")
                raise DedupError(f"{self.path}: index format {row[0]}, this dedup reads format {FORMAT_VERSION}{hint}")
            self._settings = self._stored_settings()
            if self._settings is not None:
                self._mirror.bind(*self._settings)
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
            self._reset_mirror()  # the mirror may hold units of the rolled-back batch
            raise
        finally:
            self._depth = 0

    def _stored_entries(self) -> int:
        return int(self._con.execute("SELECT COALESCE(SUM(n_entries), 0) FROM batches").fetchone()[0])

    def _reset_mirror(self) -> None:
        """Forget what is in process: the next batch reads every stored batch again."""
        self._mirror = MemoryIndex()
        if self._settings is not None:
            self._mirror.bind(*self._settings)
        self._seq = 0
        self._mirror_fresh = False

    def _sync(self) -> None:
        """Bring the mirror up to the batches stored (by any process), one row at a time."""
        last = self._last_seq()
        if last < self._seq:  # the file was replaced or truncated under us
            self._reset_mirror()
        if last == self._seq and self._mirror_fresh:
            return
        if self._settings is None:
            self._settings = self._stored_settings()
            if self._settings is not None:
                self._mirror.bind(*self._settings)
        for seq, data in self._con.execute("SELECT seq, data FROM batches WHERE seq > ? ORDER BY seq", (self._seq,)):
            self._mirror.add(batch_of(data))
            self._seq = seq
        self._mirror_fresh = True

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
            check_settings(f"index {self.path}", stored, settings_fingerprint, settings)
            if self._settings is None:  # a writer stored them after this reader opened the file
                self._mirror.bind(*stored)
            self._settings = stored
            return
        with self._write():
            stored = self._stored_settings()
            if stored is None:
                self._con.executemany("INSERT INTO settings VALUES (?, ?)", [
                    ("fingerprint", settings_fingerprint),
                    ("settings", json.dumps(settings, sort_keys=True))])
                stored = (settings_fingerprint, dict(settings))
        check_settings(f"index {self.path}", stored, settings_fingerprint, settings)
        if self._settings is None:
            self._settings = stored
            self._mirror.bind(*stored)

    def _fresh(self) -> MemoryIndex:
        """The mirror, read up to the file first when no batch holds the lock."""
        if not self._depth:
            self._sync()
        return self._mirror

    def __len__(self) -> int:
        return len(self._fresh())

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        return self._fresh().document(doc_id)

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        return self._fresh().first_exact(set_keys)

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        return self._fresh().entry_set_keys(ids)

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        return self._fresh().band_candidates(band_keys, limit)

    def shingles(self, entry_id: int) -> np.ndarray:
        if not self._mirror.stores_shingles:
            pool, starts, lengths = self.shingle_spans(np.array([entry_id], dtype=np.int64))
            return pool[int(starts[0]):int(starts[0]) + int(lengths[0])]
        return self._fresh().shingles(entry_id)

    def shingle_spans(self, ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._mirror.stores_shingles:  # exact-only: the sets are in the file alone
            return self._file_sets(np.asarray(ids, dtype=np.int64))
        return self._fresh().shingle_spans(ids)

    def _file_sets(self, ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`shingle_spans` read from the stored batches (a pass over the file)."""
        pools: list = []
        starts = np.zeros(len(self._fresh()), dtype=np.int64)
        lengths = np.zeros(len(starts), dtype=np.int64)
        at = 0
        for first, data in self._con.execute("SELECT first_entry, data FROM batches ORDER BY seq"):
            batch = batch_of(data)
            n = len(batch)
            own = np.diff(batch.offsets)
            starts[first:first + n] = at + batch.offsets[:-1]
            lengths[first:first + n] = own
            refs = np.flatnonzero(batch.shingle_ref >= 0)  # an exact repeat: its earlier entry's set
            starts[first + refs] = starts[batch.shingle_ref[refs]]
            lengths[first + refs] = lengths[batch.shingle_ref[refs]]
            pools.append(batch.hashes)
            at += len(batch.hashes)
        pool = np.concatenate(pools) if pools else np.zeros(0, dtype=np.uint32)
        return pool.astype(np.uint32, copy=False), starts[ids], lengths[ids]

    def location(self, entry_id: int) -> Location:
        return self._fresh().location(entry_id)

    def location_columns(self, ids: np.ndarray) -> Tuple[list, list, list, list]:
        return self._fresh().location_columns(ids)

    def replay_of(self, doc_id: DocId, set_keys: np.ndarray) -> Optional[int]:
        return self._fresh().replay_of(doc_id, set_keys)

    @property
    def stores_shingles(self) -> bool:  # type: ignore[override]
        return self._mirror.stores_shingles

    def native_store(self) -> Any:
        """The compiled store of the mirror: the engine decides against it inside :meth:`batch`,
        then :meth:`persist_added` stores what it added."""
        return self._mirror.native_store()

    def add(self, batch: IndexBatch) -> None:
        if self.read_only:
            raise DedupError(f"{self.path}: opened read-only; nothing can be added")
        if len(batch) == 0 and not batch.doc_ids:
            return
        try:
            with self._write():
                if self._depth == 0:  # outside batch(): the caller decided against what it read last
                    if not self._mirror_fresh:
                        self._sync()
                    elif self._last_seq() != self._seq:
                        raise IndexBusyError(
                            f"{self.path}: another process added entries since this batch read the index "
                            f"({self._stored_entries() - len(self._mirror)} more); write through Deduplicator "
                            "or inside index.batch() so writers take turns")
                batch = self._kept(batch)
                self._insert(batch, len(self._mirror))
                self._mirror.add(batch)
        except BaseException:
            self._reset_mirror()  # the mirror may hold the failed batch
            raise

    writes_through = True

    def persist_added(self, batch: IndexBatch) -> None:
        """Store a batch the engine already added to the mirror's store (inside :meth:`batch`)."""
        if len(batch) == 0 and not batch.doc_ids:
            return
        self._insert(batch, len(self._mirror) - len(batch))

    def _last_seq(self) -> int:
        return int(self._con.execute("SELECT COALESCE(MAX(seq), 0) FROM batches").fetchone()[0])

    def _kept(self, batch: IndexBatch) -> IndexBatch:
        """What the file keeps of a batch: all of it, but under exact-only settings no band keys
        (never looked up). The sets are kept on disk then too (``dedup check`` reads them), not
        in process (set keys decide)."""
        if self._mirror.stores_shingles:
            return batch
        return replace(batch, band_keys=np.zeros((len(batch), 0), np.uint64), sorted_band_pairs=None)

    def _insert(self, batch: IndexBatch, first: int) -> None:
        batch = self._kept(batch)
        n_sets = int(np.count_nonzero(np.asarray(batch.shingle_ref) < 0))
        cur = self._con.execute("INSERT INTO batches (first_entry, n_entries, n_docs, n_sets, data) VALUES (?, ?, ?, ?, ?)",
                                (first, len(batch), len(batch.doc_ids), n_sets, batch_bytes(batch)))
        self._seq = int(cur.lastrowid or self._seq + 1)

    # -- inspection --------------------------------------------------------------------

    @property
    def nbytes(self) -> int:
        """Bytes held in process (the mirror); the file holds the same on disk."""
        return self._mirror.nbytes

    def info(self) -> Dict[str, Any]:
        """What the index holds: settings, paragraphs, documents, size on disk."""
        con = self._con
        files = [self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm")]
        stored = self._stored_settings()
        paragraphs, documents, sets = con.execute(
            "SELECT COALESCE(SUM(n_entries), 0), COALESCE(SUM(n_docs), 0), COALESCE(SUM(n_sets), 0) FROM batches").fetchone()
        ids: set = set()
        for (data,) in con.execute("SELECT data FROM batches ORDER BY seq"):
            ids.update(json.loads(data[4:4 + int.from_bytes(data[:4], "little")].decode("utf-8"))["ids"])
        return info_fields("sqlite", {"path": str(self.path), "format": FORMAT_VERSION}, stored, {
            "paragraphs": int(paragraphs), "stored_sets": int(sets), "documents": int(documents),
            "distinct_doc_ids": len(ids), "size_bytes": sum(f.stat().st_size for f in files if f.exists()),
        })
