"""ExactIndex: exact repeats only, in a few bytes per paragraph (``exact_only=True``).

For first passes over billions of paragraphs (dolma's Bloom filter, cc_net's hash sets):
it keeps no shingle sets, no band keys and no offsets, only

- per distinct paragraph (distinct shingle set): its 64-bit set key and first entry id, in
  a :class:`SortedTable` (12 bytes);
- per document: its first entry id, its id and a 64-bit digest of its set keys (so a
  document fed again under its id, unchanged, replays its first decisions).

A repeat is decided on the 64-bit set key alone (a hash of the sorted shingle set), not
verified against the stored set: two different paragraphs are taken for one with
probability about n^2 / 2^65 over n distinct paragraphs (3e-8 at 10^6, 3e-4 at 10^8, 0.003 at
3*10^8; at 10^10 use the full index, or expect a handful of false removals). Near repeats
are not looked for. Matched locations carry the document and paragraph index; the matched
paragraph's character offsets are not kept (reported as 0, 0).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from dedup.arrays import exclusive_cumsum
from dedup.errors import DedupError
from dedup.index.base import DocId, Index, IndexBatch, Location, Settings, check_settings, info_fields
from dedup.index.growable import GrowableArray
from dedup.index.sorted_table import SortedTable

_U64 = np.uint64


def keys_digest(set_keys: np.ndarray) -> int:
    """A 64-bit digest of a document's set keys, in order (equal documents, equal digests)."""
    keys = np.asarray(set_keys, dtype=_U64)
    if not len(keys):
        return 0
    weights = (np.arange(1, len(keys) + 1, dtype=_U64) * _U64(0x9E3779B97F4A7C15)) | _U64(1)
    with np.errstate(over="ignore"):
        return int(np.bitwise_xor.reduce(keys * weights) ^ _U64(len(keys)))


class ExactIndex(Index):
    """The index of exact-only runs: set keys and document boundaries, nothing else."""

    stores_shingles = False

    def __init__(self) -> None:
        self._settings: Optional[Settings] = None
        self._exact = SortedTable()
        self._n = 0
        self._doc_first_entry = GrowableArray(np.int64)
        self._doc_ids: List[DocId] = []
        self._doc_first: Dict[DocId, Tuple[int, int, int]] = {}  # id -> (first entry, size, digest)

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        if self._settings is None:
            self._settings = (settings_fingerprint, dict(settings))
        check_settings("index", self._settings, settings_fingerprint, settings)

    def __len__(self) -> int:
        return self._n

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays (the doc-id list and dict are extra)."""
        return self._exact.nbytes + self._doc_first_entry.nbytes

    def info(self) -> Dict[str, Any]:
        return info_fields("exact", {}, self._settings, {
            "paragraphs": len(self), "documents": len(self._doc_ids),
            "distinct_doc_ids": len(self._doc_first), "size_bytes": self.nbytes})

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        known = self._doc_first.get(doc_id)
        return None if known is None else (known[0], known[1])

    def replay_of(self, doc_id: DocId, set_keys: np.ndarray) -> Optional[int]:
        known = self._doc_first.get(doc_id)
        if known is None or known[1] != len(set_keys) or known[1] == 0 or known[2] != keys_digest(set_keys):
            return None
        return known[0]

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        return self._exact.first(np.asarray(set_keys, dtype=_U64))

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        raise DedupError("an exact-only index keeps no per-paragraph set keys")

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy()

    def shingles(self, entry_id: int) -> np.ndarray:
        raise DedupError("an exact-only index keeps no shingle sets")

    def location(self, entry_id: int) -> Location:
        firsts = self._doc_first_entry.view
        ordinal = int(np.searchsorted(firsts, entry_id, side="right")) - 1
        return Location(self._doc_ids[ordinal], int(entry_id - firsts[ordinal]), 0, 0)

    def location_columns(self, ids: np.ndarray) -> Tuple[list, list, list, list]:
        ids = np.asarray(ids, dtype=np.int64)
        firsts = self._doc_first_entry.view
        ordinal = np.searchsorted(firsts, ids, side="right") - 1
        zeros = [0] * len(ids)
        return ([self._doc_ids[o] for o in ordinal.tolist()], (ids - firsts[ordinal]).tolist(), zeros, list(zeros))

    def add(self, batch: IndexBatch) -> None:
        n = len(batch)
        if n == 0 and not batch.doc_ids:
            return
        base = self._n
        ids = np.arange(base, base + n, dtype=np.int64)
        first = batch.shingle_ref < 0  # the first entry with its set: the only one first_exact returns
        self._exact.add(np.asarray(batch.set_keys, dtype=_U64)[first], ids[first])
        starts = base + exclusive_cumsum(batch.doc_sizes)
        self._doc_first_entry.extend(starts)
        at = 0
        for doc_id, start, size in zip(batch.doc_ids, starts.tolist(), batch.doc_sizes.tolist()):
            self._doc_ids.append(doc_id)
            if doc_id not in self._doc_first:
                self._doc_first[doc_id] = (start, size, keys_digest(batch.set_keys[at:at + size]))
            at += size
        self._n = base + n
