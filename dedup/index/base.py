"""The Index protocol: what corpus scope needs from storage, batch at a time.

An index holds *entries*, one per paragraph seen, numbered 0, 1, 2... in input order (so
"earlier" is "smaller id"). For each entry it keeps where it came from, the key of its
shingle set (exact repeats), its LSH band keys (near repeats) and its shingle set (to
verify a candidate before anything is removed). Every call takes or returns numpy
arrays for a whole batch, so a networked index can answer in one round trip.

Optional beyond the protocol: ``batch()``, a context manager the Deduplicator enters
around the lookups, decisions and ``add`` of one batch. SqliteIndex takes its write lock
there and RedisIndex its snapshot; MemoryIndex has a no-op one. An index without it
works as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Optional, Protocol, Tuple, runtime_checkable

import numpy as np

DocId = Hashable


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

    def __len__(self) -> int:
        return len(self.set_keys)


@runtime_checkable
class Index(Protocol):
    """Storage behind corpus scope. Implementations: MemoryIndex (and persistent ones)."""

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        """Record the settings on first use; raise IndexMismatchError if they differ."""

    def __len__(self) -> int:
        """Number of entries (the id the next entry gets)."""

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        """(first entry id, paragraph count) of an indexed document, or None."""

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        """Per key, the smallest entry id holding it, or -1."""

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        """Set keys of the given entries."""

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        """Entries sharing a band key: (position in ``band_keys.ravel()``, entry id).

        Per key at most ``limit`` entries, the earliest ones, in increasing id order.
        """

    def shingles(self, entry_id: int) -> np.ndarray:
        """Sorted unique uint32 shingle set of an entry."""

    def location(self, entry_id: int) -> Location:
        """Where the entry's paragraph came from."""

    def add(self, batch: IndexBatch) -> None:
        """Append a batch of entries (atomically, where the storage allows)."""
