"""The Index base class: what corpus scope needs from storage, batch at a time.

An index holds *entries*, one per paragraph seen, numbered 0, 1, 2... in input order (so
"earlier" is "smaller id"). For each entry it keeps where it came from, the key of its
shingle set (exact repeats), its LSH band keys (near repeats) and its shingle set (to
verify a candidate before anything is removed). Every call takes or returns numpy
arrays for a whole batch, so a networked index can answer in one round trip.

A backend implements the abstract methods. The others (``batch``, ``shingle_spans``,
``band_candidates_sorted``, ``location_columns``, ``native_store``, ``close``) have defaults built on
those, which a backend overrides where it has a faster way or needs a lock: SqliteIndex
takes its write lock in ``batch()`` and RedisIndex its snapshot. Callers call them all
directly, never asking whether an index has them. Like datasketch's ``Storage(ABC)``.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Dict, Hashable, Iterator, Optional, Tuple

import numpy as np

from dedup.arrays import exclusive_cumsum
from dedup.errors import DedupError, IndexMismatchError

DocId = Hashable
Settings = Tuple[str, dict]  # (fingerprint, settings) an index was built with


@dataclass(frozen=True)
class Location:
    """Where an indexed paragraph came from."""

    doc_id: DocId
    index: int
    start: int
    end: int


@dataclass
class IndexBatch:
    """Entries to append, in order; ids ``len(index) .. len(index) + n - 1``.

    ``shingle_ref[i]`` is -1 when entry i's shingle set is stored with it (``hashes``
    slice ``offsets[i]:offsets[i+1]``), else the id of an earlier entry with the same set
    (an exact repeat stores nothing new, and is left out of the band table).
    ``sorted_band_pairs``, when given, is the (band key, entry id) pairs of the stored
    entries already sorted by (key, id): the Deduplicator sorts them anyway, so an index
    may use them and skip a sort.
    """

    set_keys: np.ndarray  # uint64 (n,)
    band_keys: np.ndarray  # uint64 (n, bands)
    hashes: np.ndarray  # uint32 flat shingle sets
    offsets: np.ndarray  # int64 (n + 1,)
    shingle_ref: np.ndarray  # int64 (n,)
    doc_ids: list  # one per document in the batch, in order
    doc_sizes: np.ndarray  # int64: entries per document (sum = n)
    para_index: np.ndarray  # int64 (n,)
    starts: np.ndarray  # int64 (n,)
    ends: np.ndarray  # int64 (n,)
    sorted_band_pairs: Optional[Tuple[np.ndarray, np.ndarray]] = None
    #: The noisy rules' layer (``DedupConfig.noisy_rules``; None without them): per entry its noisy
    #: band keys (n, bands; zeros for none) and its record, ``noisy_records[noisy_offsets[i]:
    #: noisy_offsets[i+1]]`` (empty: none), as the compiled engine writes them.
    noisy_keys: Optional[np.ndarray] = None
    noisy_records: Optional[bytes] = None
    noisy_offsets: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.set_keys)


class Index(ABC):
    """Storage behind corpus scope. Implementations: MemoryIndex, SqliteIndex, RedisIndex.

    Write your own by subclassing this and implementing the abstract methods.
    """

    @abstractmethod
    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        """Record the settings on first use; raise IndexMismatchError if they differ."""

    @abstractmethod
    def __len__(self) -> int:
        """Number of entries (the id the next entry gets)."""

    @abstractmethod
    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        """(first entry id, paragraph count) of an indexed document, or None."""

    @abstractmethod
    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        """Per key, the smallest entry id holding it, or -1."""

    @abstractmethod
    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        """Set keys of the given entries."""

    @abstractmethod
    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        """Entries sharing a band key: (position in ``band_keys.ravel()``, entry id).

        Per key at most ``limit`` entries, the earliest ones, in increasing id order.
        """

    @abstractmethod
    def shingles(self, entry_id: int) -> np.ndarray:
        """Sorted unique uint32 shingle set of an entry."""

    @abstractmethod
    def location(self, entry_id: int) -> Location:
        """Where the entry's paragraph came from."""

    @abstractmethod
    def add(self, batch: IndexBatch) -> None:
        """Append a batch of entries (atomically, where the storage allows)."""

    # -- with defaults -----------------------------------------------------------------

    #: Whether :meth:`shingles` holds the sets (exact repeats are then verified on them).
    stores_shingles = True
    #: Whether copies of this index in several processes are one index (a file or a server they
    #: take turns on), rather than each process's own copy.
    shared_between_processes = False

    def replay_of(self, doc_id: DocId, set_keys: np.ndarray) -> Optional[int]:
        """The first entry of document ``doc_id`` when it was indexed with these very set keys
        (fed again unchanged: it gets its first decisions), else None."""
        known = self.document(doc_id)
        if known is None or known[1] != len(set_keys) or known[1] == 0:
            return None
        ids = np.arange(known[0], known[0] + known[1], dtype=np.int64)
        return known[0] if np.array_equal(self.entry_set_keys(ids), set_keys) else None

    @contextmanager
    def batch(self) -> Iterator["Index"]:
        """Scope of one batch's lookups, decisions and ``add`` (re-entrant).

        Nothing to hold by default; a persistent index takes its lock or snapshot here.
        """
        yield self

    def shingle_spans(self, ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pool, starts, lengths): entry ``ids[i]``'s set is ``pool[starts[i]:starts[i] + lengths[i]]``.

        By default each distinct entry's :meth:`shingles`, gathered once.
        """
        uniq, inverse = np.unique(ids, return_inverse=True)
        parts = [np.asarray(self.shingles(int(e)), dtype=np.uint32) for e in uniq.tolist()]
        lengths = np.array([len(p) for p in parts], dtype=np.int64)
        pool = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint32)
        inverse = inverse.ravel()
        return pool, exclusive_cumsum(lengths)[inverse], lengths[inverse]

    def band_candidates_sorted(self, sorted_keys: np.ndarray, positions: np.ndarray, limit: int
                               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`band_candidates` for flat keys given sorted (``positions[i]``: where key i was).

        Returns (positions, ids, ids taken per position). By default the keys are put
        back in place and asked through :meth:`band_candidates`.
        """
        flat = np.empty_like(sorted_keys)
        flat[positions] = sorted_keys
        pos, ids = self.band_candidates(flat.reshape(-1, 1), limit)
        return pos, ids, np.bincount(pos, minlength=len(flat))

    def location_columns(self, ids: np.ndarray) -> Tuple[list, list, list, list]:
        """(doc ids, paragraph indexes, starts, ends) of many entries, as lists."""
        locs = [self.location(int(e)) for e in np.asarray(ids).tolist()]
        return ([x.doc_id for x in locs], [x.index for x in locs], [x.start for x in locs], [x.end for x in locs])

    #: Whether what the compiled engine adds to :meth:`native_store` must also be written
    #: elsewhere: the engine then decides inside :meth:`batch` and hands it to :meth:`persist_added`.
    writes_through = False

    def native_store(self) -> Any:
        """The compiled engine's store holding this index, for the engine to decide against and
        append to directly; None (the default) when there is none: the batch path asks the
        methods above instead."""
        return None

    def persist_added(self, batch: IndexBatch) -> None:
        """Store a batch the engine already added to :meth:`native_store` (inside :meth:`batch`,
        when :attr:`writes_through`); nothing by default."""

    def close(self) -> None:
        """Release what the index holds open (a file, a connection); nothing by default."""

    def info(self) -> Dict[str, Any]:
        """What the index holds (:func:`info_fields`); by default its kind and size only."""
        return info_fields(type(self).__name__, {}, None, {"paragraphs": len(self)})


def check_process(made_in: int, index: Index, writes: bool) -> int:
    """The process a deduplicator may go on in: this one, unless it is a copy made in another
    process that still runs, writing to an index not shared between processes (each copy would
    deduplicate only its own share of the documents, silently unlike one pass: Hugging Face
    ``datasets.map(num_proc=2)``; and the maker's own index would learn nothing of what a copy
    saw). A copy restored after its maker ended (a pickle read back in a later run) carries on."""
    here = os.getpid()
    if made_in == here or not writes or index.shared_between_processes:
        return here
    try:
        os.kill(made_in, 0)
    except ProcessLookupError:
        return here
    except PermissionError:  # alive, another user's
        pass
    raise DedupError(
        f"this Deduplicator was made in process {made_in}, which still runs, and is used in process {here}: "
        f"its {type(index).__name__} is this process's own copy, so each process would deduplicate only its "
        "share of the documents. Run it in the process that made it, with workers=N for parallel fingerprinting "
        "(the same result as one pass; Hugging Face datasets: map without num_proc, which runs even num_proc=1 "
        "in a worker process), or give it an index processes share (SQLite, Redis)")


def as_index(index: Any) -> Index:
    """``index`` itself if it is an :class:`Index`; else a TypeError saying what is needed."""
    if not isinstance(index, Index):
        raise TypeError(f"index must be a dedup.Index (MemoryIndex, SqliteIndex, RedisIndex or a subclass "
                        f"of dedup.Index), a path or a redis:// URL; got {type(index).__name__}")
    return index


class _Unset:
    def __repr__(self) -> str:
        return "<not set>"


_UNSET = _Unset()


def check_settings(name: str, stored: Settings, settings_fingerprint: str, settings: dict) -> None:
    """Raise IndexMismatchError naming each setting that differs, if the fingerprints do."""
    if stored[0] == settings_fingerprint:
        return
    old, new = stored[1], settings
    differ = sorted(k for k in old.keys() | new.keys() if old.get(k, _UNSET) != new.get(k, _UNSET))
    prints = f"settings fingerprint {stored[0]}, now {settings_fingerprint}"
    if not differ:
        raise IndexMismatchError(f"{name} built with {prints}")
    built = ", ".join(f"{k}={old.get(k, _UNSET)!r}" for k in differ)
    now = ", ".join(f"{k}={new.get(k, _UNSET)!r}" for k in differ)
    raise IndexMismatchError(f"{name} built with {built}, now {now} ({prints})")


def info_fields(kind: str, where: Dict[str, Any], stored: Optional[Settings], counts: Dict[str, int]
                ) -> Dict[str, Any]:
    """The ``info()`` of every index: kind, where it lives, its settings, then what it holds."""
    return {"kind": kind, **where, "fingerprint": stored[0] if stored else None,
            "settings": stored[1] if stored else None, **counts}
