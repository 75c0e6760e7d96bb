"""RedisIndex: one corpus index shared by workers on several machines (the ``redis`` extra).

Keys (all under ``prefix``, so one server holds many corpora):

- ``{p}settings`` hash: config fingerprint and settings JSON (checked by ``bind``).
- ``{p}next``: the id the next entry gets (ids are handed out in commit order).
- ``{p}entries`` hash: entry id -> packed (set key, shingle ref, doc's first entry,
  paragraph index, start, end).
- ``{p}sets`` hash: entry id -> its sorted uint32 shingle set (stored entries only).
- ``{p}exact`` hash: set key (8 bytes) -> id of the first entry with that set (HSETNX).
- ``{p}bands`` hash: band key (8 bytes) -> the earliest ``max_bucket_candidates`` entry
  ids holding it (packed int64, increasing).
- ``{p}docs`` hash: doc id (JSON) -> (first entry, count) of its first indexing (HSETNX);
  ``{p}docnames`` hash: first entry -> doc id (for reports).

Reads and writes are batched: one HMGET per batch and table, one MULTI/EXEC per ``add``.

Guarantee for several workers. ``add`` is one MULTI/EXEC transaction guarded by WATCH
on ``{p}next``: a batch is stored whole or not at all, and batches get ids in the order
they commit. Another worker's commit in between makes the transaction retry with fresh
ids. So the stored index is always the one a single writer would have built by adding
the batches in commit order. Set keys are written with set-if-absent (HSETNX) in that
order, so the first committed writer of a set wins, and it holds the smallest id.
Each batch decides against a *snapshot*: the entries committed when its
:meth:`batch` began (later ids are hidden from its lookups). Therefore:

- can happen: two workers whose batches overlap in time, each holding a copy of the
  same paragraph (exact or near), both keep their copy, because neither batch sees the
  other. Both copies are stored; every later paragraph is matched to the copy with the
  smaller id (the first committed).
- cannot happen: a lost or half-written batch, two entries with one id, a paragraph
  removed as a repeat of a paragraph that is not stored earlier in the index or in its
  own batch, a duplicate kept when its original was committed before the batch began,
  or a document replayed against an entry of another worker's batch still in flight.

One worker (or batches that do not overlap in time) gives exactly the decisions of
:class:`~dedup.index.memory.MemoryIndex`.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from dedup._optional import require
from dedup.arrays import exclusive_cumsum, ragged_take, row_of
from dedup.errors import DedupError, IndexBusyError
from dedup.index.base import DocId, Index, IndexBatch, Location, Settings, check_settings, info_fields
from dedup.index.codec import I64, key_fields, pack, set_blobs, shingle_set, unpack
from dedup.index.doc_ids import decode_doc_id, encode_doc_id
from dedup.index.durability import checkpoint

_ENTRY = np.dtype([("set_key", "<u8"), ("shingle_ref", "<i8"), ("doc_first", "<i8"),
                   ("para", "<i8"), ("start", "<i8"), ("end", "<i8")])
_CHUNK = 20000  # fields per HMGET / HSET command
_RETRIES = 1000


def import_redis() -> Any:
    """The ``redis`` package, or MissingDependencyError naming the pip command."""
    return require("redis", "redis", "the Redis index")


class RedisIndex(Index):
    """Corpus index in Redis, shared by several workers; takes a ``redis.Redis`` client.

    ``RedisIndex(client, prefix="dedup:")``: every key lives under ``prefix`` (one per
    corpus). The client must return bytes (the default, ``decode_responses=False``).
    See the module docstring for what several concurrent workers can and cannot produce.
    """

    shared_between_processes = True  # processes take turns on it

    def __init__(self, client: Any, prefix: str = "dedup:", *, cache_size: int = 16384,
                 read_only: bool = False) -> None:
        import_redis()
        self.read_only = bool(read_only)
        if getattr(client, "get_encoder", None) and client.get_encoder().decode_responses:
            raise ValueError("RedisIndex needs a client with decode_responses=False (binary values)")
        self.client = client
        self.prefix = prefix
        self._cache_size = cache_size
        k = prefix
        self._k_settings, self._k_next, self._k_entries = f"{k}settings", f"{k}next", f"{k}entries"
        self._k_sets, self._k_exact, self._k_bands = f"{k}sets", f"{k}exact", f"{k}bands"
        self._k_docs, self._k_docnames = f"{k}docs", f"{k}docnames"
        self._settings: Optional[Settings] = None
        self._cap: Optional[int] = None
        self._snapshot: Optional[int] = None  # entries visible to the batch in progress
        self._last_len = 0
        self._depth = 0
        self._shingles = lru_cache(maxsize=cache_size)(self._load_shingles)
        self._location = lru_cache(maxsize=cache_size)(self._load_location)
        self._band_cache: Tuple[int, Dict[bytes, Optional[bytes]]] = (-1, {})

    def __repr__(self) -> str:
        return f"RedisIndex({self.client!r}, prefix={self.prefix!r})"

    def __getstate__(self) -> dict:
        """Pickled as connection settings (host, port, db, credentials), not as sockets."""
        pool = self.client.connection_pool
        plain = {k: v for k, v in pool.connection_kwargs.items()
                 if isinstance(v, (str, int, float, bool, type(None))) and not k.startswith("orig_")}
        return {"connection": (pool.connection_class, plain), "prefix": self.prefix,
                "cache_size": self._cache_size}

    def __setstate__(self, state: dict) -> None:
        redis = import_redis()
        cls, kwargs = state["connection"]
        client = redis.Redis(connection_pool=redis.ConnectionPool(connection_class=cls, **kwargs))
        RedisIndex.__init__(self, client, state["prefix"], cache_size=state["cache_size"])

    @property
    def keys(self) -> List[str]:
        """Every Redis key this index uses (e.g. to delete a corpus)."""
        return [self._k_settings, self._k_next, self._k_entries, self._k_sets, self._k_exact,
                self._k_bands, self._k_docs, self._k_docnames]

    # -- the Index protocol ------------------------------------------------------------

    def bind(self, settings_fingerprint: str, settings: dict) -> None:
        pipe = self.client.pipeline(transaction=True)
        if not self.read_only:
            pipe.hsetnx(self._k_settings, "fingerprint", settings_fingerprint)
            pipe.hsetnx(self._k_settings, "settings", json.dumps(settings, sort_keys=True))
        pipe.hmget(self._k_settings, ["fingerprint", "settings"])
        if not self.read_only:
            checkpoint("redis.exec")
        fingerprint, stored = pipe.execute()[-1]
        if stored is None:
            raise DedupError(f"Redis index {self.prefix!r}: an empty index (nothing to query)")
        stored_settings = json.loads(stored)
        self._settings = (fingerprint.decode(), stored_settings)
        cap = stored_settings.get("max_bucket_candidates")
        self._cap = int(cap) if isinstance(cap, int) else None
        check_settings(f"Redis index {self.prefix!r}", self._settings, settings_fingerprint, settings)

    def _counter(self) -> int:
        value = self.client.get(self._k_next)
        return int(value) if value is not None else 0

    def __len__(self) -> int:
        if self._snapshot is not None:
            return self._snapshot
        self._last_len = self._counter()
        return self._last_len

    def _visible(self) -> int:
        """Entries this batch may see: the snapshot, else the last length reported."""
        return self._snapshot if self._snapshot is not None else self._last_len

    @contextmanager
    def batch(self) -> Iterator["RedisIndex"]:
        """Decide one batch against a snapshot: entries committed when it began."""
        if self._depth == 0:
            self._snapshot = self._counter()
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._snapshot = None

    def document(self, doc_id: DocId) -> Optional[Tuple[int, int]]:
        raw = self.client.hget(self._k_docs, encode_doc_id(doc_id))
        if raw is None:
            return None
        first, count = unpack(raw, I64).tolist()
        if first + count > self._visible():
            return None
        return int(first), int(count)

    def _hmget(self, key: str, fields: Sequence[Any]) -> List[Optional[bytes]]:
        if not fields:
            return []
        pipe = self.client.pipeline(transaction=False)
        for i in range(0, len(fields), _CHUNK):
            pipe.hmget(key, fields[i:i + _CHUNK])
        return [v for part in pipe.execute() for v in part]

    def first_exact(self, set_keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(set_keys, dtype=np.uint64)
        values = self._hmget(self._k_exact, key_fields(keys))
        out = np.array([-1 if v is None else int(v) for v in values], dtype=np.int64)
        out[out >= self._visible()] = -1  # the first holder is later than this batch's snapshot
        return out

    def entry_set_keys(self, ids: np.ndarray) -> np.ndarray:
        return self._entries(ids)["set_key"].astype(np.uint64)

    def _entries(self, ids: np.ndarray) -> np.ndarray:
        ids_list = np.asarray(ids, dtype=np.int64).tolist()
        values = self._hmget(self._k_entries, ids_list)
        missing = [i for i, v in zip(ids_list, values) if v is None]
        if missing:
            raise KeyError(f"Redis index {self.prefix!r}: no entries {missing[:5]}")
        return np.frombuffer(b"".join(v for v in values if v is not None), _ENTRY) if values \
            else np.zeros(0, _ENTRY)

    def band_candidates(self, band_keys: np.ndarray, limit: int) -> Tuple[np.ndarray, np.ndarray]:
        if self._cap is not None and limit > self._cap:
            raise ValueError(f"Redis index {self.prefix!r} keeps {self._cap} entries per band key "
                             f"(max_bucket_candidates it was built with), asked for {limit}")
        flat = np.asarray(band_keys, dtype=np.uint64).ravel()
        uniq, inverse = np.unique(flat, return_inverse=True)
        fields = key_fields(uniq)
        values = self._hmget(self._k_bands, fields)
        visible = self._visible()
        # Raw values as of this snapshot: add() reuses them if nobody committed since.
        self._band_cache = (visible, dict(zip(fields, values)))
        counts = np.zeros(len(uniq), dtype=np.int64)
        parts = []
        for u, v in enumerate(values):
            if v is not None:
                ids = unpack(v, I64)
                ids = ids[ids < visible][:limit]
                counts[u] = len(ids)
                parts.append(ids)
        empty = np.zeros(0, dtype=np.int64)
        if not parts:
            return empty, empty.copy()
        all_ids = np.concatenate(parts).astype(np.int64)
        c = counts[inverse.ravel()]  # ids taken per query key
        return row_of(c), all_ids[ragged_take(exclusive_cumsum(counts)[inverse.ravel()], c)]

    def _load_shingles(self, entry_id: int) -> np.ndarray:
        raw, entry = self.client.pipeline(transaction=False).hget(self._k_sets, entry_id) \
            .hget(self._k_entries, entry_id).execute()
        if entry is None:
            raise KeyError(f"Redis index {self.prefix!r}: no entry {entry_id}")
        if raw is None:
            ref = int(np.frombuffer(entry, _ENTRY)["shingle_ref"][0])
            raw = self.client.hget(self._k_sets, ref)
        return shingle_set(raw)

    def shingles(self, entry_id: int) -> np.ndarray:
        return self._shingles(int(entry_id))

    def location(self, entry_id: int) -> Location:
        return self._location(int(entry_id))

    def _load_location(self, entry_id: int) -> Location:
        e = self._entries(np.array([entry_id]))[0]
        name = self.client.hget(self._k_docnames, int(e["doc_first"]))
        return Location(decode_doc_id(name.decode()), int(e["para"]), int(e["start"]), int(e["end"]))

    # -- writing -----------------------------------------------------------------------

    def add(self, batch: IndexBatch) -> None:
        """Store a batch in one transaction; ids are reassigned if others committed meanwhile.

        The caller numbered the batch from the length it saw (``base``); references to
        entries of this batch (``shingle_ref >= base``) move with it.
        """
        if self.read_only:
            raise DedupError(f"Redis index {self.prefix!r}: opened read-only; nothing can be added")
        if len(batch) == 0 and not batch.doc_ids:
            return
        pending = self._prepare(batch)
        for _ in range(_RETRIES):
            first = self._try_commit(pending)
            if first is not None:
                break
        else:
            raise IndexBusyError(f"Redis index {self.prefix!r}: {_RETRIES} commits by other workers "
                                 "in a row; could not store the batch")
        self._last_len = first + len(batch)
        self._band_cache = (-1, {})

    def _prepare(self, batch: IndexBatch) -> "_Pending":
        """What to write, except the ids (known only at commit)."""
        ref = np.asarray(batch.shingle_ref, dtype=np.int64)
        stored = np.flatnonzero(ref < 0)
        band_fields, band_bounds, band_rows = _group_bands(np.asarray(batch.band_keys, dtype=np.uint64)[stored],
                                                           stored)
        return _Pending(
            batch=batch, base=self._visible(), ref=ref, stored=stored.tolist(),
            sizes=np.asarray(batch.doc_sizes, dtype=np.int64),
            doc_names=[encode_doc_id(d) for d in batch.doc_ids],
            set_fields=key_fields(np.asarray(batch.set_keys, dtype=np.uint64)[stored]),
            set_blobs=set_blobs(batch.hashes, batch.offsets, stored.tolist()),
            band_fields=band_fields, band_bounds=band_bounds, band_rows=band_rows)

    def _try_commit(self, pending: "_Pending") -> Optional[int]:
        """One MULTI/EXEC of the batch; its first id, or None if another worker committed first."""
        with self.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(self._k_next)
                raw = pipe.get(self._k_next)
                first = int(raw) if raw is not None else 0
                current = self._cached_bands(first, pending.band_fields)
                if current is None:
                    current = self._hmget_watched(pipe, self._k_bands, pending.band_fields)
                pipe.multi()
                self._queue_entries(pipe, pending, first)
                self._queue_sets_and_documents(pipe, pending, first)
                self._queue_bands(pipe, pending, first, current)
                checkpoint("redis.exec")
                pipe.execute()
            except self._watch_error():
                return None
        return first

    @staticmethod
    def _watch_error():
        return import_redis().WatchError

    def _cached_bands(self, first: int, fields: List[bytes]) -> Optional[List[Optional[bytes]]]:
        """Bucket values read by this batch's lookup, if still current (no commit since)."""
        seen, cache = self._band_cache
        if seen != first:
            return None
        if not all(f in cache for f in fields):
            return None
        return [cache[f] for f in fields]

    @staticmethod
    def _hmget_watched(pipe: Any, key: str, fields: List[bytes]) -> List[Optional[bytes]]:
        out: List[Optional[bytes]] = []
        for i in range(0, len(fields), _CHUNK):  # immediate mode (after WATCH): one call each
            out += pipe.hmget(key, fields[i:i + _CHUNK])
        return out

    def _queue_entries(self, pipe: Any, p: "_Pending", first: int) -> None:
        batch, n = p.batch, len(p.batch)
        records = np.zeros(n, dtype=_ENTRY)
        records["set_key"] = np.asarray(batch.set_keys, dtype=np.uint64)
        records["shingle_ref"] = np.where(p.ref >= p.base, p.ref + (first - p.base), p.ref)
        records["doc_first"] = np.repeat(first + exclusive_cumsum(p.sizes), p.sizes)
        records["para"] = batch.para_index
        records["start"] = batch.starts
        records["end"] = batch.ends
        blob = records.tobytes()
        size = _ENTRY.itemsize
        pipe.set(self._k_next, first + n)
        for lo in range(0, n, _CHUNK):
            pipe.hset(self._k_entries, mapping={
                first + i: blob[i * size:(i + 1) * size] for i in range(lo, min(n, lo + _CHUNK))})

    def _queue_sets_and_documents(self, pipe: Any, p: "_Pending", first: int) -> None:
        for lo in range(0, len(p.stored), _CHUNK):
            pipe.hset(self._k_sets, mapping={
                first + r: blob for r, blob in zip(p.stored[lo:lo + _CHUNK], p.set_blobs[lo:lo + _CHUNK])})
        for field, r in zip(p.set_fields, p.stored):  # first committed writer of a set wins
            pipe.hsetnx(self._k_exact, field, first + r)
        doc_first = first + exclusive_cumsum(p.sizes)
        for name, f, size in zip(p.doc_names, doc_first.tolist(), p.sizes.tolist()):
            pipe.hsetnx(self._k_docs, name, pack(np.array([f, size]), I64))
            if size:  # an empty document shares its first id with the next one
                pipe.hset(self._k_docnames, f, name)

    def _queue_bands(self, pipe: Any, p: "_Pending", first: int, current: List[Optional[bytes]]) -> None:
        """Append the batch's ids to each bucket, up to the earliest ``cap`` entries per bucket."""
        cap = self._cap
        updates: Dict[bytes, bytes] = {}
        rows = (p.band_rows + first).astype(I64)
        for u, field in enumerate(p.band_fields):
            old = current[u] or b""
            have = len(old) // 8
            if cap is not None and have >= cap:
                continue  # the bucket already holds its earliest `cap` entries
            take = rows[p.band_bounds[u]:p.band_bounds[u + 1]]
            if cap is not None:
                take = take[:cap - have]
            updates[field] = old + take.tobytes()
            if len(updates) >= _CHUNK:
                pipe.hset(self._k_bands, mapping=updates)
                updates = {}
        if updates:
            pipe.hset(self._k_bands, mapping=updates)

    # -- inspection --------------------------------------------------------------------

    def info(self) -> Dict[str, Any]:
        """What the index holds: settings, paragraphs, documents, memory used in Redis."""
        pipe = self.client.pipeline(transaction=False)
        pipe.hmget(self._k_settings, ["fingerprint", "settings"])
        pipe.get(self._k_next)
        pipe.hlen(self._k_sets)
        pipe.hlen(self._k_docs)
        pipe.hlen(self._k_docnames)
        for key in self.keys:
            pipe.memory_usage(key, samples=64)
        (fingerprint, settings), nxt, n_sets, n_doc_ids, n_docs, *sizes = pipe.execute()
        stored = (fingerprint.decode(), json.loads(settings)) if fingerprint and settings else None
        return info_fields("redis", {"prefix": self.prefix}, stored, {
            "paragraphs": int(nxt or 0), "stored_sets": int(n_sets), "documents": int(n_docs),
            "distinct_doc_ids": int(n_doc_ids), "size_bytes": int(sum(s or 0 for s in sizes))})


@dataclass
class _Pending:
    """A batch ready to write; only its first id is left to fill in (at commit)."""

    batch: IndexBatch
    base: int  # the first id the caller numbered the batch from
    ref: np.ndarray
    stored: List[int]  # rows that store their set
    sizes: np.ndarray
    doc_names: List[str]
    set_fields: List[bytes]
    set_blobs: List[bytes]
    band_fields: List[bytes]  # distinct band keys of the stored rows
    band_bounds: List[int]  # band_rows[band_bounds[u]:band_bounds[u + 1]]: the rows holding key u
    band_rows: np.ndarray


def _group_bands(band_keys: np.ndarray, rows: np.ndarray) -> Tuple[List[bytes], List[int], np.ndarray]:
    """Band keys of ``rows`` grouped: (distinct keys as fields, group bounds, rows in key then row order)."""
    flat = band_keys.ravel()
    flat_row = np.repeat(rows, band_keys.shape[1] if band_keys.ndim == 2 else 0)
    order = np.lexsort((flat_row, flat))
    flat, flat_row = flat[order], flat_row[order]
    starts = np.flatnonzero(np.r_[True, flat[1:] != flat[:-1]]) if len(flat) else np.zeros(0, np.int64)
    return key_fields(flat[starts]), np.r_[starts, len(flat)].tolist(), flat_row
